package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/realmd/realmd/core"
)

// check validates a config directory: exit 0, or 1 with every problem.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	dir := fs.String("config", "", "config directory to check")
	if code, ok := parseFlags(fs, args, stdout, stderr, configHint); !ok {
		return code
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "realmd check: --config DIR is required")
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "realmd check: finding the realmd executable: %v\n", err)
		return 1
	}
	problems := core.Check(context.Background(), core.Options{Dir: *dir, Builtins: builtins(), Executable: exe, Logger: newLogger("error", false, stderr)})
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if problems.Err() != nil {
		errors := 0
		for _, p := range problems {
			if !p.Warning {
				errors++
			}
		}
		fmt.Fprintf(stdout, "%s: %d problem(s); realmd would not load this config\n", *dir, errors)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", *dir)
	return 0
}
