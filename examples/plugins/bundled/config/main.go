// Command config is the config plugin, built with -buildmode=plugin: the
// host looks up Name, Kinds and Plugin.
package main

import "github.com/gomixin/mixin/examples/plugins/config"

// Name is the plugin's registration name.
var Name = "config"

// Kinds are the kinds the plugin claims.
var Kinds = []string{"event"}

// Plugin is the value the host composes.
var Plugin any = config.New()

func main() {}
