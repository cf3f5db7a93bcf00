// Command oddsym is a plugin whose Plugin symbol is a func, not a value of
// type any: the host refuses it and goes on.
package main

// Name is the plugin's registration name.
var Name = "oddsym"

// Kinds are the kinds the plugin claims.
var Kinds = []string{"lock"}

// Plugin is of the wrong type.
var Plugin = func() {}

func main() {}
