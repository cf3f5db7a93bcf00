// Command memlock is the memlock plugin, built with -buildmode=plugin: the
// host looks up Name, Kinds and Plugin.
package main

import "github.com/gomixin/mixin/examples/plugins/memlock"

// Name is the plugin's registration name.
var Name = "locks/orders"

// Kinds are the kinds the plugin claims.
var Kinds = []string{"lock"}

// Plugin is the value the host composes.
var Plugin any = memlock.New("orders")

func main() {}
