// Command faulty is a plugin that claims to be a lock and a health check but
// is neither, built with -buildmode=plugin: the host refuses it and goes on.
package main

import "github.com/gomixin/mixin/examples/plugins/faulty"

// Name is the plugin's registration name.
var Name = "faulty"

// Kinds are the kinds the plugin claims.
var Kinds = []string{"lock", "health"}

// Plugin is the value the host composes.
var Plugin any = faulty.Plugin{}

func main() {}
