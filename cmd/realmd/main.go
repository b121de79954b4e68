// Command realmd is a local authentication and authorization daemon that
// reads OpenSearch Security's configuration files unchanged.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `realmd: authentication and authorization for reverse proxies and applications

Usage:
  realmd serve [--config DIR] [--listen ADDR] [--log-level LEVEL] [--log-json] [--watch=false]
  realmd check --config DIR
  realmd hash [--algorithm bcrypt|pbkdf2|argon2] [--config DIR]   (password on stdin)
  realmd version

Without --config, serve runs the embedded quickstart config (demo users).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "hash":
		return hash(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "realmd %s\n", version)
		return 0
	case "plugin":
		return servePlugin(args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "realmd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// newLogger is the root logger every part of realmd gets a named child of.
// parseFlags parses a subcommand's flags and refuses any other argument.
// Go's flag parsing stops at the first one, so without this "realmd serve
// DIR" served the embedded demo config and "serve DIR --listen X" dropped
// the listen address too, silently. hint, when set, follows the message.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, hint func(arg string) string) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() == 0 {
		return true
	}
	msg := fmt.Sprintf("realmd %s: unexpected argument %q", fs.Name(), fs.Arg(0))
	if hint != nil {
		msg += " (" + hint(fs.Arg(0)) + ")"
	}
	fmt.Fprintln(stderr, msg)
	return false
}

// configHint is the hint for subcommands that take --config.
func configHint(arg string) string { return "did you mean --config " + arg + "?" }

func newLogger(level string, json bool, out io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "realmd",
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
		Output:     out,
	})
}
