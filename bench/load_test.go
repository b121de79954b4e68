package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/core"
	"github.com/realmd/realmd/sdk"
)

// loadDuration is how long wrk drives each case, after warmUp.
const (
	loadDuration = 4 * time.Second
	warmUp       = time.Second
)

// childEnv makes the test binary serve something instead of running
// benchmarks: "plugin" (the echo backend for BenchmarkHop) or a baseline
// HTTP handler named in baselines.
const childEnv = "REALMD_BENCH_CHILD"

// heapFloorEnv makes a baseline keep the same garbage collector headroom
// as realmd's processes (sdk.KeepHeapFloor).
const heapFloorEnv = "REALMD_BENCH_HEAP_FLOOR"

// realmdRuntime is the environment that gives a baseline realmd's runtime
// settings, for a like-for-like ratio: the heap floor, and the GODEBUG
// setting that keeps Go's monitor thread awake (core.Schedtrace).
var realmdRuntime = []string{heapFloorEnv + "=1", "GODEBUG=" + core.Schedtrace}

// baselines are HTTP handlers run in a child process, so that they and
// realmd are measured the same way: a separate process driven by wrk.
var baselines = map[string]func() http.Handler{
	"bare": func() http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Auth-User", "bench")
			w.Header().Set("X-Auth-Roles", "readall")
			w.Header().Set("X-Auth-Backend-Roles", "bench")
		})
	},
	"bcrypt": bcryptBaseline,
	"jwt":    jwtBaseline,
}

// serveBaseline runs in the child: it serves the named baseline on the
// address in REALMD_BENCH_ADDR until killed.
func serveBaseline(name string) {
	if os.Getenv(heapFloorEnv) != "" {
		sdk.KeepHeapFloor(sdk.HeapFloor)
	}
	ln, err := net.Listen("tcp", os.Getenv("REALMD_BENCH_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = http.Serve(ln, baselines[name]())
}

// startBaseline runs a baseline handler in a child process and returns its URL.
func startBaseline(b *testing.B, name string, env ...string) string {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+name, "REALMD_BENCH_ADDR="+addr), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("baseline %s did not start", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	rpsRE    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	non2xxRE = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	errorsRE = regexp.MustCompile(`Socket errors:.*`)
)

// load drives url with wrk for loadDuration, cycling through headers (an
// Authorization value each), records requests per second under b's name
// and fails the benchmark on any non-2xx answer or socket error. b.N is
// not used: one wrk run is the measurement.
func load(b *testing.B, url string, authorization []string) {
	b.Helper()
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed; `make bench` installs it")
	}
	script := filepath.Join(b.TempDir(), "headers.lua")
	var lua strings.Builder
	lua.WriteString("local values = {\n")
	for _, v := range authorization {
		fmt.Fprintf(&lua, "  %q,\n", v)
	}
	lua.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n" +
		"  return wrk.format(\"GET\", nil, {[\"Authorization\"] = values[(i % #values) + 1]})\nend\n")
	if err := os.WriteFile(script, []byte(lua.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), warmUp+loadDuration+30*time.Second)
	defer cancel()
	// Warm up first, baselines and realmd alike: the first second of a
	// fresh process (stacks, heap, connection pools) is not its pace.
	if out, err := exec.CommandContext(ctx, wrk, "-t2", "-c64", "-d"+warmUp.String(), "-s", script, url).CombinedOutput(); err != nil {
		b.Fatalf("wrk warm-up: %v\n%s", err, out)
	}
	b.ResetTimer()
	out, err := exec.CommandContext(ctx, wrk, "-t2", "-c64", "-d"+loadDuration.String(), "-s", script, url).CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	if m := non2xxRE.FindSubmatch(out); m != nil {
		b.Fatalf("%s non-2xx answers\n%s", m[1], out)
	}
	if m := errorsRE.Find(out); m != nil {
		b.Fatalf("%s\n%s", m, out)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no Requests/sec in wrk output:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	b.ReportMetric(rps, "req/s")
	recordRPS(b.Name(), rps)
}
