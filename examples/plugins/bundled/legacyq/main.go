// Command legacyq is the legacy-queue plugin, built with -buildmode=plugin:
// the host looks up Name, Kinds and Plugin. Its queue has no Exit or Close;
// the host adapts it.
package main

import "github.com/gomixin/mixin/examples/plugins/legacyq"

// Name is the plugin's registration name.
var Name = "queue/events"

// Kinds are the kinds the plugin claims.
var Kinds = []string{"context"}

// Plugin is the value the host composes.
var Plugin any = legacyq.Connect("events")

func main() {}
