// Package bench measures realmd against baselines run in the same process
// and prints the ratios, because absolute numbers on a shared 2-core
// machine mean little. Run it with `make bench`.
package bench

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// results collects throughput (operations per second) per benchmark name
// so TestMain can print ratios.
var (
	resultsMu sync.Mutex
	results   = map[string]float64{}
)

func recordRPS(name string, opsPerSecond float64) {
	resultsMu.Lock()
	results[name] = opsPerSecond
	resultsMu.Unlock()
}

// record stores a Go benchmark's throughput (for in-process loops).
func record(b *testing.B) {
	b.Helper()
	if b.N < 2 {
		return
	}
	recordRPS(b.Name(), float64(b.N)/b.Elapsed().Seconds())
}

// ratios lists which results to compare: label, candidate, baseline.
// A ratio is throughput(candidate) / throughput(baseline).
var ratios [][3]string

func addRatio(label, candidate, baseline string) {
	ratios = append(ratios, [3]string{label, candidate, baseline})
}

func TestMain(m *testing.M) {
	switch child := os.Getenv(childEnv); child {
	case "":
	case "plugin":
		sdk.Serve(echoPlugin())
		os.Exit(0)
	default:
		serveBaseline(child)
		os.Exit(0)
	}
	code := m.Run()
	printRatios(os.Stdout)
	os.Exit(code)
}

func printRatios(w io.Writer) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nthroughput (ops/s):")
	for _, n := range names {
		fmt.Fprintf(w, "  %-60s %12.0f\n", n, results[n])
	}
	fmt.Fprintln(w, "\nratios (throughput of candidate / baseline, same run):")
	for _, r := range ratios {
		cand, ok1 := results[r[1]]
		base, ok2 := results[r[2]]
		if !ok1 || !ok2 {
			continue
		}
		fmt.Fprintf(w, "  %-60s %6.2f\n", r[0], cand/base)
	}
}
