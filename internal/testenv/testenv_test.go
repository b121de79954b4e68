package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "failed: " + fmt.Sprintf(format, args...)
}

func (r *recorder) Skipf(format string, args ...any) {
	r.ended = "skipped: " + fmt.Sprintf(format, args...)
}

func TestUnavailable_SkipsUnlessCIIsTrue(t *testing.T) {
	tests := []struct {
		name string
		ci   string
		want string
	}{
		{name: "CI=true fails", ci: "true", want: "failed: slapd is gone"},
		{name: "CI unset skips", ci: "", want: "skipped: slapd is gone"},
		{name: "CI=1 skips", ci: "1", want: "skipped: slapd is gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{}
			Unavailable(r, "%s is gone", "slapd")
			if r.ended != tt.want {
				t.Fatalf("ended %q, want %q", r.ended, tt.want)
			}
		})
	}
}

func TestFreePorts_AreDistinct(t *testing.T) {
	ports, err := FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: %d is invalid or repeated", ports, p)
		}
		seen[p] = true
	}
	if len(ports) != 5 {
		t.Fatalf("got %d ports, want 5", len(ports))
	}
}

func TestInstall_FindsInstalledProgramsWithoutApt(t *testing.T) {
	paths := Install(t, []string{"no-such-package-realmd"}, "sh", "true")
	if len(paths) != 2 {
		t.Fatalf("paths %q, want two", paths)
	}
	for i, name := range []string{"sh", "true"} {
		if filepath.Base(paths[i]) != name {
			t.Errorf("paths[%d] = %q, want a %s", i, paths[i], name)
		}
		if st, err := os.Stat(paths[i]); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s is not an executable: %v", paths[i], err)
		}
	}
}

func TestLookPath_SearchesSbinBesidesPath(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "realmd-test-sbin-tool")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "not-executable"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	old := sbinDirs
	sbinDirs = []string{dir}
	t.Cleanup(func() { sbinDirs = old })
	tests := []struct {
		name    string
		program string
		want    string
	}{
		{name: "executable in an sbin dir is found", program: "realmd-test-sbin-tool", want: prog},
		{name: "plain file in an sbin dir is not", program: "not-executable"},
		{name: "missing program is not", program: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lookPath(tt.program)
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Fatalf("lookPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
