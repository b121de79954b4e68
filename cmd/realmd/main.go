// Command realmd is a local authentication and authorization daemon that
// reads OpenSearch Security's configuration files unchanged.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// synopsis is each command's usage line, for realmd --help and for
// realmd COMMAND --help.
var synopsis = map[string]string{
	"serve":   "realmd serve [--config DIR] [--listen ADDR] [--log-level LEVEL] [--log-json] [--watch=false]",
	"check":   "realmd check --config DIR",
	"hash":    "realmd hash [--algorithm bcrypt|pbkdf2|argon2] [--config DIR]   (password on stdin)",
	"version": "realmd version",
}

var usage = `realmd: authentication and authorization for reverse proxies and applications

Usage:
  ` + synopsis["serve"] + `
  ` + synopsis["check"] + `
  ` + synopsis["hash"] + `
  ` + synopsis["version"] + `

Without --config, serve runs the embedded quickstart config (demo users).
Every command takes --help.
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		keepMonitorAwake() // returns unless it re-executed realmd
	}
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
		return serve(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "hash":
		return hash(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fs := flag.NewFlagSet("version", flag.ContinueOnError)
		if code, ok := parseFlags(fs, args[1:], stdout, stderr, nil); !ok {
			return code
		}
		fmt.Fprintf(stdout, "realmd %s\n", currentVersion())
		return 0
	case "plugin":
		return servePlugin(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "realmd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// parseFlags parses a subcommand's flags and refuses any other argument.
// Go's flag parsing stops at the first one, so without this "realmd serve
// DIR" served the embedded demo config and "serve DIR --listen X" dropped
// the listen address too, silently. hint, when set, follows the message.
// When ok is false the command is done and exits with code: 0 after
// --help or -h, which prints the usage on stdout, and 2 for a usage error,
// whose message and usage go to stderr.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, hint func(fs *flag.FlagSet, arg string) string) (code int, ok bool) {
	fs.SetOutput(stderr) // the flag package's own error messages
	fs.Usage = func() {} // printed below, where the caller wants it
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		printUsage(fs, stdout)
		return 0, false
	} else if err != nil {
		printUsage(fs, stderr)
		return 2, false
	}
	if fs.NArg() == 0 {
		return 0, true
	}
	msg := fmt.Sprintf("realmd %s: unexpected argument %q", fs.Name(), fs.Arg(0))
	if h := argHint(fs, args, hint); h != "" {
		msg += " (" + h + ")"
	}
	fmt.Fprintln(stderr, msg)
	return 2, false
}

// argHint explains fs's first unexpected argument: a value given to a
// boolean flag with a space (`--watch false`, which Go's flag package reads
// as --watch and an argument), else what hint says.
func argHint(fs *flag.FlagSet, args []string, hint func(fs *flag.FlagSet, arg string) string) string {
	if i := len(args) - fs.NArg(); i > 0 {
		name := strings.TrimLeft(args[i-1], "-")
		if f := fs.Lookup(name); f != nil && strings.HasPrefix(args[i-1], "-") {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				return fmt.Sprintf("a true/false flag takes its value after =: write --%s=%s", name, fs.Arg(0))
			}
		}
	}
	if hint == nil {
		return ""
	}
	return hint(fs, fs.Arg(0))
}

// printUsage writes fs's usage line and flags to w.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n", synopsis[fs.Name()])
	out := fs.Output() // PrintDefaults writes there
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// configHint is the hint for subcommands that take --config, when it was
// not given.
func configHint(fs *flag.FlagSet, arg string) string {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "config" })
	if given {
		return ""
	}
	return "did you mean --config " + arg + "?"
}

// newLogger is the root logger every part of realmd gets a named child of.
func newLogger(level string, json bool, out io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "realmd",
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
		Output:     out,
	})
}
