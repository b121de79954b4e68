package main

import (
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
	} {
		var stdout, stderr strings.Builder
		if code := run(tt.args, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("realmd %q: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
