package main

import (
	"fmt"
	"io"

	"github.com/realmd/realmd/plugins/basic"
	"github.com/realmd/realmd/plugins/jwt"
	"github.com/realmd/realmd/plugins/ldap"
	"github.com/realmd/realmd/sdk"
)

// builtins are the realms compiled into realmd. Each runs as its own
// process, `realmd plugin NAME`, through the same go-plugin path as a
// third-party plugin.
func builtins() []sdk.Plugin {
	return []sdk.Plugin{basic.Plugin(), jwt.Plugin(), ldap.Plugin()}
}

// servePlugin is the hidden `realmd plugin NAME` command.
func servePlugin(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: realmd plugin NAME (started by realmd itself)"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	for _, p := range builtins() {
		if p.Name == args[0] {
			sdk.Serve(p)
			return 0
		}
	}
	fmt.Fprintf(stderr, "realmd plugin: no built-in plugin %q\n", args[0])
	return 2
}
