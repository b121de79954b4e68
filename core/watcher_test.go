package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
)

// watchGuard bounds each wait for a reload, so that a watcher that stopped
// reloading fails the test instead of hanging it.
const watchGuard = 10 * time.Second

func TestDebounce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sinceFirst time.Duration
		want       time.Duration
	}{
		{"a first event waits for quiet", 0, reloadQuiet},
		{"an event mid-burst waits for quiet", reloadMaxDelay / 2, reloadQuiet},
		{"an event near the maximum waits only until it", reloadMaxDelay - reloadQuiet/2, reloadQuiet / 2},
		{"a burst past the maximum reloads at once", 2 * reloadMaxDelay, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := debounce(tc.sinceFirst); got != tc.want {
				t.Fatalf("debounce(%s) = %s, want %s", tc.sinceFirst, got, tc.want)
			}
		})
	}
}

func TestWatchPlan_Relevant(t *testing.T) {
	root := resolve(t.TempDir())
	cfg, deps, plugins := filepath.Join(root, "cfg"), filepath.Join(root, "deps"), filepath.Join(root, "plugins")
	for _, dir := range []string{cfg, deps, plugins, filepath.Join(root, "other")} {
		mkdir(t, dir)
	}
	writeFile(t, filepath.Join(cfg, "prod.yml"), "v1")
	if err := os.Symlink("prod.yml", filepath.Join(cfg, "config.yml")); err != nil {
		t.Fatal(err)
	}
	w := testWatcher(t, cfg, []string{filepath.Join(deps, "ca.pem"), filepath.Join(plugins, "fake")}, []string{plugins}, nil)
	w.sync()
	for _, tc := range []struct {
		name string
		path string
		want bool
	}{
		{"a config file", filepath.Join(cfg, "roles_mapping.yml"), true},
		{"the target of a symlinked config file", filepath.Join(cfg, "prod.yml"), true},
		{"any other file in the config directory", filepath.Join(cfg, "noise.txt"), false},
		{"the Kubernetes ..data swap", filepath.Join(cfg, "..data"), true},
		{"the config directory itself", cfg, true},
		{"the config directory's name in its parent", filepath.Join(root, "cfg"), true},
		{"a sibling of the config directory", filepath.Join(root, "other", "x"), false},
		{"another name in the config directory's parent", filepath.Join(root, "cfg.bak"), false},
		{"a depended-on file", filepath.Join(deps, "ca.pem"), true},
		{"any other file next to a depended-on file", filepath.Join(deps, "noise.txt"), false},
		{"a new executable in the plugin directory", filepath.Join(plugins, "ldap"), true},
		{"a file in an unwatched directory", filepath.Join(root, "elsewhere", "config.yml"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.plan.relevant(fsnotify.Event{Name: tc.path, Op: fsnotify.Write}); got != tc.want {
				t.Fatalf("relevant(%s) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

// watchStep changes the files, then waits for a reload that reads want
// (a prefix) from the probe file, while noise, when set, is written every
// few milliseconds.
type watchStep struct {
	do    func(t *testing.T, root string)
	noise string // relative to root
	want  string
}

func TestWatcher_KeepsReloading(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, root string)
		dir      string   // the config directory, relative to root
		deps     []string // depended-on files, relative to root
		probe    string   // what the fake reload reads, relative to root
		steps    []watchStep
		wantLogs []string
	}{{
		name:  "a config directory deleted and re-created is watched again",
		setup: func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "d2", "config.yml"), "v1") },
		dir:   "d2", probe: "d2/config.yml",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				removeAll(t, filepath.Join(root, "d2"))
				writeFile(t, filepath.Join(root, "d2", "config.yml"), "v2")
			}, want: "v2"},
			{do: edit("d2/config.yml", "v3"), want: "v3"},
			{do: edit("d2/config.yml", "v4"), want: "v4"},
		},
		wantLogs: []string{"watched directory disappeared", "watching directory again"},
	}, {
		name: "a config directory renamed away and replaced is watched again",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "d2", "config.yml"), "v1")
			writeFile(t, filepath.Join(root, "new", "config.yml"), "v2")
		},
		dir: "d2", probe: "d2/config.yml",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				rename(t, filepath.Join(root, "d2"), filepath.Join(root, "old"))
				rename(t, filepath.Join(root, "new"), filepath.Join(root, "d2"))
			}, want: "v2"},
			{do: edit("d2/config.yml", "v3"), want: "v3"},
		},
	}, {
		name: "a config symlink swapped to another directory reloads and watches the new one",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "rel", "v1", "config.yml"), "v1")
			writeFile(t, filepath.Join(root, "rel", "v2", "config.yml"), "v2")
			symlink(t, "v1", filepath.Join(root, "rel", "current"))
		},
		dir: "rel/current", probe: "rel/current/config.yml",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				symlink(t, "v2", filepath.Join(root, "rel", "current.tmp"))
				rename(t, filepath.Join(root, "rel", "current.tmp"), filepath.Join(root, "rel", "current"))
			}, want: "v2"},
			{do: edit("rel/v2/config.yml", "v2 edited"), want: "v2 edited"},
		},
		wantLogs: []string{"config directory now resolves elsewhere"},
	}, {
		// Found by review: only the config directory and the link's first
		// name were watched, so none of these edits reloaded.
		name: "a config file symlinked to an absolute path reloads when that file is edited in place",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "shared", "internal_users.yml"), "v1")
			mkdir(t, filepath.Join(root, "abs"))
			symlink(t, filepath.Join(root, "shared", "internal_users.yml"), filepath.Join(root, "abs", "internal_users.yml"))
		},
		dir: "abs", probe: "abs/internal_users.yml",
		steps: []watchStep{{do: edit("shared/internal_users.yml", "v2"), want: "v2"}, {do: edit("shared/internal_users.yml", "v3"), want: "v3"}},
	}, {
		name: "a config file symlinked into a subdirectory reloads when that file is edited in place",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "sub", "users", "internal_users.yml"), "v1")
			symlink(t, "users/internal_users.yml", filepath.Join(root, "sub", "internal_users.yml"))
		},
		dir: "sub", probe: "sub/internal_users.yml",
		steps: []watchStep{{do: edit("sub/users/internal_users.yml", "v2"), want: "v2"}},
	}, {
		name: "a chain of symlinks through .. reloads when the last file is edited in place",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "common", "roles_mapping.yml"), "v1")
			mkdir(t, filepath.Join(root, "links"))
			symlink(t, "../common/roles_mapping.yml", filepath.Join(root, "links", "roles_mapping.yml"))
			mkdir(t, filepath.Join(root, "chain"))
			symlink(t, "../links/roles_mapping.yml", filepath.Join(root, "chain", "roles_mapping.yml"))
		},
		dir: "chain", probe: "chain/roles_mapping.yml",
		steps: []watchStep{{do: edit("common/roles_mapping.yml", "v2"), want: "v2"}},
	}, {
		// Found by review: only the directory a depended-on file's
		// directory resolved to was watched, not the link on the way.
		name: "a depended-on file under a symlinked directory reloads when the link is re-pointed",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "cfg", "config.yml"), "v1")
			writeFile(t, filepath.Join(root, "certs-v1", "ca.pem"), "ca1")
			writeFile(t, filepath.Join(root, "certs-v2", "ca.pem"), "ca2")
			symlink(t, filepath.Join(root, "certs-v1"), filepath.Join(root, "cfg", "certs"))
		},
		dir: "cfg", deps: []string{"cfg/certs/ca.pem"}, probe: "cfg/certs/ca.pem",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				symlink(t, filepath.Join(root, "certs-v2"), filepath.Join(root, "cfg", "certs.tmp"))
				rename(t, filepath.Join(root, "cfg", "certs.tmp"), filepath.Join(root, "cfg", "certs"))
			}, want: "ca2"},
			{do: edit("certs-v2/ca.pem", "ca3"), want: "ca3"},
		},
	}, {
		name: "a config directory below a symlinked ancestor reloads when the ancestor is re-pointed",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "releases", "r1", "config.yml"), "v1")
			writeFile(t, filepath.Join(root, "releases", "r2", "config.yml"), "v2")
			symlink(t, filepath.Join("releases", "r1"), filepath.Join(root, "current"))
			mkdir(t, filepath.Join(root, "app"))
			symlink(t, filepath.Join("..", "current"), filepath.Join(root, "app", "cur"))
		},
		dir: "app/cur", probe: "app/cur/config.yml",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				symlink(t, filepath.Join("releases", "r2"), filepath.Join(root, "current.tmp"))
				rename(t, filepath.Join(root, "current.tmp"), filepath.Join(root, "current"))
			}, want: "v2"},
			{do: edit("releases/r2/config.yml", "v3"), want: "v3"},
		},
		wantLogs: []string{"config directory now resolves elsewhere"},
	}, {
		name: "a depended-on directory deleted and re-created is watched again",
		setup: func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "cfg", "config.yml"), "v1")
			writeFile(t, filepath.Join(root, "ca", "ca.pem"), "ca1")
		},
		dir: "cfg", deps: []string{"ca/ca.pem"}, probe: "ca/ca.pem",
		steps: []watchStep{
			{do: func(t *testing.T, root string) {
				removeAll(t, filepath.Join(root, "ca"))
				writeFile(t, filepath.Join(root, "ca", "ca.pem"), "ca2")
			}, want: "ca2"},
			{do: edit("ca/ca.pem", "ca3"), want: "ca3"},
		},
		wantLogs: []string{"watched directory disappeared", "watching directory again"},
	}, {
		name:  "steady writes to an unrelated file do not postpone an edit",
		setup: func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "d7", "roles_mapping.yml"), "v1") },
		dir:   "d7", probe: "d7/roles_mapping.yml",
		steps: []watchStep{{do: edit("d7/roles_mapping.yml", "v2"), noise: "d7/noise.txt", want: "v2"}},
	}, {
		name:  "steady writes to a config file do not postpone the reload for ever",
		setup: func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "d7", "roles_mapping.yml"), "v1") },
		dir:   "d7", probe: "d7/roles_mapping.yml",
		steps: []watchStep{{do: func(*testing.T, string) {}, noise: "d7/roles_mapping.yml", want: "noise"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.setup(t, root)
			var deps []string
			for _, f := range tc.deps {
				deps = append(deps, filepath.Join(root, f))
			}
			reloads := make(chan string, 1000)
			probe := filepath.Join(root, tc.probe)
			var logs testenv.LogBuffer
			logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &logs})
			w := testWatcher(t, filepath.Join(root, tc.dir), deps, nil, func(context.Context) {
				b, _ := os.ReadFile(probe)
				select {
				case reloads <- string(b):
				default:
				}
			})
			w.logger = logger
			startWatcher(t, w)
			for i, s := range tc.steps {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				if s.noise != "" {
					wg.Add(1)
					go func() { defer wg.Done(); writeNoise(filepath.Join(root, s.noise), stop) }()
				}
				s.do(t, root)
				got := waitReload(reloads, s.want)
				close(stop)
				wg.Wait()
				if !strings.HasPrefix(got, s.want) {
					t.Fatalf("step %d: no reload read %q within %s (last read %q)", i+1, s.want, watchGuard, got)
				}
			}
			log := logs.String()
			for _, want := range tc.wantLogs {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
		})
	}
}

// testWatcher is a watcher of dir whose generation depends on deps.
func testWatcher(t *testing.T, dir string, deps, anyName []string, reload func(context.Context)) *watcher {
	t.Helper()
	w, err := newWatcher(dir, func() ([]string, []string) { return deps, anyName }, reload, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.fs.Close() })
	return w
}

// startWatcher watches before it returns, so that the test's first change
// is seen, and stops the watcher when the test ends.
func startWatcher(t *testing.T, w *watcher) {
	w.sync()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.loop(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitReload returns the first reload's read that starts with want, or the
// last read when none does within watchGuard.
func waitReload(reloads <-chan string, want string) string {
	guard := time.After(watchGuard)
	last := "(no reload)"
	for {
		select {
		case got := <-reloads:
			if strings.HasPrefix(got, want) {
				return got
			}
			last = got
		case <-guard:
			return last
		}
	}
}

// writeNoise rewrites path every few milliseconds until stop closes.
func writeNoise(path string, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
			_ = os.WriteFile(path, []byte(fmt.Sprintf("noise %d", i)), 0o644)
		}
	}
}

func edit(rel, content string) func(*testing.T, string) {
	return func(t *testing.T, root string) { writeFile(t, filepath.Join(root, rel), content) }
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestWatcher_KubernetesSwapForgetsOldDirectories: each ..data swap of a
// mounted ConfigMap deletes the timestamped directory the config files
// resolved to. The watcher once promised to watch each again "when it
// exists" and kept it in its lost set for ever, one more per update.
func TestWatcher_KubernetesSwapForgetsOldDirectories(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "k8s")
	writeFile(t, filepath.Join(dir, "..v1", "config.yml"), "v1")
	symlink(t, "..v1", filepath.Join(dir, "..data"))
	symlink(t, "..data/config.yml", filepath.Join(dir, "config.yml"))
	var logs testenv.LogBuffer
	reloads := make(chan string, 1000)
	var w *watcher
	w = testWatcher(t, dir, nil, nil, func(context.Context) {
		b, _ := os.ReadFile(filepath.Join(dir, "config.yml"))
		select {
		case reloads <- fmt.Sprintf("%s lost=%d", b, len(w.lost)): // the loop's goroutine owns w.lost
		default:
		}
	})
	w.logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &logs})
	startWatcher(t, w)
	for v := 2; v <= 6; v++ {
		next := fmt.Sprintf("..v%d", v)
		writeFile(t, filepath.Join(dir, next, "config.yml"), fmt.Sprintf("v%d", v))
		symlink(t, next, filepath.Join(dir, "..data_tmp"))
		rename(t, filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data"))
		removeAll(t, filepath.Join(dir, fmt.Sprintf("..v%d", v-1)))
		want := fmt.Sprintf("v%d ", v)
		if got := waitReload(reloads, want); !strings.HasPrefix(got, want) {
			t.Fatalf("swap to %s: no reload read %q within %s (last read %q)", next, want, watchGuard, got)
		} else if got != want+"lost=0" {
			t.Errorf("swap to %s: reload saw %q, want no lost directories", next, got)
		}
	}
	if log := logs.String(); strings.Contains(log, "it is watched again when it exists") {
		t.Errorf("log promises to watch a deleted ..v directory again:\n%s", log)
	}
}

func TestWatchPlan_AddPathFollowsEveryLink(t *testing.T) {
	root := resolve(t.TempDir())
	writeFile(t, filepath.Join(root, "certs-v1", "ca.pem"), "ca")
	mkdir(t, filepath.Join(root, "conf"))
	symlink(t, "../certs-v1", filepath.Join(root, "conf", "certs"))
	symlink(t, "loop2", filepath.Join(root, "loop1"))
	symlink(t, "loop1", filepath.Join(root, "loop2"))
	for _, tc := range []struct {
		name string
		path string
		want []string // dir/name, relative to root
	}{
		{"a symlinked directory on the way", "conf/certs/ca.pem", []string{"conf/certs", "certs-v1/ca.pem"}},
		{"a missing directory on the way", "gone/ca.pem", []string{"gone"}},
		{"a symlink loop ends", "loop1/ca.pem", []string{"loop1", "loop2"}},
		{"a plain file", "certs-v1/ca.pem", []string{"certs-v1/ca.pem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := watchPlan{}
			p.addPath(filepath.Join(root, tc.path))
			var got []string
			for dir, in := range p {
				for name := range in.names {
					rel, err := filepath.Rel(root, filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, rel)
				}
			}
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
				t.Errorf("addPath(%s) watches %v, want %v", tc.path, got, want)
			}
		})
	}
}
