package config

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite testdata/broken/*/expected.txt from the current output")

// brokenEnv is the environment the broken configs are loaded with.
var brokenEnv = map[string]string{
	"REALMD_TEST_SECRET":  "s3cret",
	"REALMD_TEST_EMPTY":   "",
	"REALMD_TEST_B64":     "QXV0aG9yaXphdGlvbg==", // "Authorization"
	"REALMD_TEST_BAD_B64": "not*base64",
}

// overlay serves a broken config directory over the default files; the
// names listed in its `omit` file are not defaulted.
type overlay struct {
	dir      fs.FS
	defaults fstest.MapFS
	omit     map[string]bool
}

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.dir.Open(name)
	if errors.Is(err, fs.ErrNotExist) && !o.omit[name] && o.defaults[name] != nil {
		return o.defaults.Open(name)
	}
	return f, err
}

func newOverlay(t *testing.T, dir string) overlay {
	t.Helper()
	o := overlay{dir: os.DirFS(dir), defaults: fstest.MapFS{}, omit: map[string]bool{}}
	for n, c := range defaultFiles {
		o.defaults[n] = &fstest.MapFile{Data: []byte(c)}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "omit")); err == nil {
		for _, n := range strings.Fields(string(b)) {
			o.omit[n] = true
		}
	}
	return o
}

// TestLoad_BrokenConfigs loads every directory under testdata/broken (the
// files there over minimal valid defaults) and compares the full problem
// list with its expected.txt. Run with -update to rewrite the goldens, then
// review them by hand.
func TestLoad_BrokenConfigs(t *testing.T) {
	dirs, err := filepath.Glob("testdata/broken/*")
	if err != nil || len(dirs) < 25 {
		t.Fatalf("want at least 25 broken configs, found %d (%v)", len(dirs), err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			s, ps := load(newOverlay(t, abs), abs, envMap(brokenEnv))
			got := strings.Join(lines(ps), "\n") + "\n"
			golden := filepath.Join(dir, "expected.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			if len(ps) == 0 {
				t.Error("a broken config must give at least one problem")
			}
			if (s == nil) != (ps.Err() != nil) {
				t.Errorf("settings nil = %v, but problems.Err() = %v", s == nil, ps.Err())
			}
		})
	}
}
