// Command health is the health plugin, built with -buildmode=plugin: the
// host looks up Name, Kinds and Plugin.
package main

import "github.com/gomixin/mixin/examples/plugins/health"

// Name is the plugin's registration name.
var Name = "health/db"

// Kinds are the kinds the plugin claims: the host's own kind.
var Kinds = []string{"health"}

// Plugin is the value the host composes.
var Plugin any = health.Database{Up: true}

func main() {}
