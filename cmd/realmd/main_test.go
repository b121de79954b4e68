package main

import (
	"io"
	"strings"
	"testing"
)

// A subcommand refuses arguments that are not flags. Go's flag parsing
// stops at the first one, so "realmd serve DIR" served the embedded demo
// users (admin:admin) and ignored every flag after DIR (found by review).
func TestRun_ArgumentsThatAreNotFlagsAreRefused(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "/etc/realmd"}, `realmd serve: unexpected argument "/etc/realmd" (did you mean --config /etc/realmd?)`},
		{[]string{"serve", "--listen", "127.0.0.1:0", "/etc/realmd", "--watch=false"}, `unexpected argument "/etc/realmd"`},
		{[]string{"check", "/etc/realmd"}, `realmd check: unexpected argument "/etc/realmd" (did you mean --config /etc/realmd?)`},
		{[]string{"hash", "hunter2"}, `realmd hash: unexpected argument "hunter2" (the password is read from standard input`},
		// Found by review: a boolean flag's value after a space, and an
		// argument after --config, were told to use --config.
		{[]string{"serve", "--config", "/etc/realmd", "--watch", "false"}, `realmd serve: unexpected argument "false" (a true/false flag takes its value after =: write --watch=false)`},
		{[]string{"check", "--config", "/etc/realmd", "extra"}, "realmd check: unexpected argument \"extra\"\n"},
	} {
		var stdout, stderr strings.Builder
		if code := run(tt.args, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("realmd %q: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// An unknown --algorithm is a usage error, like an unknown --log-level
// (found by review: it exited 1 with "hashing: algorithm:" in front).
func TestHash_UnknownAlgorithmIsAUsageError(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run([]string{"hash", "--algorithm", "sha"}, strings.NewReader("secret\n"), &stdout, &stderr)
	if want := "realmd hash: --algorithm \"sha\": must be bcrypt, pbkdf2 or argon2\n"; code != 2 || stderr.String() != want {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr.String(), want)
	}
}

// An unknown log level is a usage error that names where it came from.
// hclog reads an unknown name as NoLevel, so "--log-level verbose" used to
// serve at info without a word. The config directory does not exist, so
// without the check serve fails later, with exit 1.
func TestServe_UnknownLogLevelIsAUsageError(t *testing.T) {
	missing := t.TempDir() + "/missing"
	for _, tt := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{name: "flag", args: []string{"serve", "--config", missing, "--log-level", "verbose"},
			want: `realmd serve: --log-level "verbose": must be trace, debug, info, warn, error or off`},
		{name: "flag over a good environment", env: "debug", args: []string{"serve", "--config", missing, "--log-level=warning"},
			want: `realmd serve: --log-level "warning": must be trace, debug, info, warn, error or off`},
		{name: "environment", env: "verbose", args: []string{"serve", "--config", missing},
			want: `realmd serve: REALMD_LOG_LEVEL "verbose": must be trace, debug, info, warn, error or off`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(logLevelEnv, tt.env)
			var stdout, stderr strings.Builder
			if code := run(tt.args, strings.NewReader(""), &stdout, &stderr); code != 2 || strings.TrimSpace(stderr.String()) != tt.want {
				t.Errorf("realmd %q: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr.String(), tt.want)
			}
		})
	}
}

// off, which hclog has and realmd served with before levels were checked,
// stays accepted (found by review: a unit file setting it stopped starting).
func TestParseLevel_AcceptsTheLevelsInAnyCase(t *testing.T) {
	for _, s := range []string{"trace", "debug", "info", "warn", "error", "off", "INFO", " Warn ", "OFF"} {
		if _, ok := parseLevel(s); !ok {
			t.Errorf("parseLevel(%q) refused a known level", s)
		}
	}
	for _, s := range []string{"", "verbose", "warning"} {
		if l, ok := parseLevel(s); ok {
			t.Errorf("parseLevel(%q) = %v, accepted", s, l)
		}
	}
}

// --help and -h print the command's usage on stdout and exit 0, as
// `realmd --help` does. The flag package reports them as flag.ErrHelp,
// which subcommands used to turn into exit 2; `realmd version --help`
// printed the version.
func TestRun_HelpExitsZeroEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "--help"}, {"serve", "-h"}, {"serve", "--listen", "127.0.0.1:0", "--help"},
		{"check", "--help"}, {"check", "-h"},
		{"hash", "--help"}, {"hash", "-h"},
		{"version", "--help"}, {"version", "-h"},
		{"plugin", "--help"},
	} {
		var stdout, stderr strings.Builder
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if code != 0 || !strings.Contains(strings.ToLower(stdout.String()), "usage") || strings.Contains(stdout.String(), "realmd "+currentVersion()+"\n") {
			t.Errorf("realmd %q: exit %d, stdout %q, stderr %q; want exit 0 and the usage on stdout", args, code, stdout.String(), stderr.String())
		}
	}
	// A subcommand's help names its flags.
	var stdout strings.Builder
	run([]string{"serve", "--help"}, strings.NewReader(""), &stdout, io.Discard)
	for _, want := range []string{"Usage: realmd serve [--config DIR]", "-log-level", "-watch"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("realmd serve --help: %q lacks %q", stdout.String(), want)
		}
	}
}

// A flag that does not exist, or check without --config, is a usage error:
// exit 2 (not check's 1 for a config that does not load), message on stderr.
func TestRun_UnknownFlagIsAUsageError(t *testing.T) {
	for _, args := range [][]string{{"serve", "--nope"}, {"check"}, {"check", "--nope"}, {"hash", "--nope"}, {"version", "--nope"}, {"version", "extra"}} {
		var stdout, stderr strings.Builder
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("realmd %q: exit %d, stdout %q, stderr %q; want exit 2 and the error on stderr only", args, code, stdout.String(), stderr.String())
		}
	}
}
