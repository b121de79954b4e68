// Package bench measures realmd against baselines run in the same process
// and prints the ratios, because absolute numbers on a shared 2-core
// machine mean little. Run it with `make bench`.
package bench

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// results collects throughput (operations per second) per benchmark name,
// one value per round (`go test -count N` runs every benchmark N times, one
// round after another), so TestMain can print ratios.
var (
	resultsMu sync.Mutex
	results   = map[string][]float64{}
)

func recordRPS(name string, opsPerSecond float64) {
	name = roundSuffix.ReplaceAllString(name, "")
	resultsMu.Lock()
	results[name] = append(results[name], opsPerSecond)
	resultsMu.Unlock()
}

// roundSuffix is what Go appends to the name of a sub-benchmark run again
// in the same parent ("#01"): eachRound's later rounds.
var roundSuffix = regexp.MustCompile(`#\d+$`)

// roundsEnv sets how many rounds eachRound runs; `make bench` sets 3.
const roundsEnv = "REALMD_BENCH_ROUNDS"

// eachRound runs round REALMD_BENCH_ROUNDS times (default 1). A round
// measures a candidate and its baselines one after another, so repeating
// rounds interleaves them: a slow spell of the machine then lowers both
// sides of a ratio instead of one (go test -count would repeat each case
// back to back).
func eachRound(round func()) {
	n, err := strconv.Atoi(os.Getenv(roundsEnv))
	if err != nil || n < 1 {
		n = 1
	}
	for range n {
		round()
	}
}

// record stores a Go benchmark's throughput (for in-process loops). Go
// calls a benchmark first with b.N == 1 and then with larger N until its
// time is up: the first call opens a round, and each later call's figure
// replaces the round's, which so ends with the longest run's.
func record(b *testing.B) {
	b.Helper()
	v := float64(b.N) / b.Elapsed().Seconds()
	resultsMu.Lock()
	defer resultsMu.Unlock()
	rs := results[b.Name()]
	if b.N == 1 || len(rs) == 0 {
		results[b.Name()] = append(rs, v)
		return
	}
	rs[len(rs)-1] = v
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

// printRatios prints each benchmark's median throughput and each ratio.
// With several rounds, a ratio is the median of the per-round ratios
// (candidate and baseline measured minutes apart, in the same round), with
// their range: the machine's slow and fast spells then weigh on both sides.
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
	fmt.Fprintln(w, "\nthroughput (ops/s, median of rounds):")
	for _, n := range names {
		fmt.Fprintf(w, "  %-66s %12.0f\n", n, median(results[n]))
	}
	fmt.Fprintln(w, "\nratios (throughput of candidate / baseline, same run; median of rounds [range]):")
	for _, r := range ratios {
		cand, base := results[r[1]], results[r[2]]
		rounds := min(len(cand), len(base))
		if rounds == 0 {
			continue
		}
		per := make([]float64, rounds)
		for i := range per {
			per[i] = cand[i] / base[i]
		}
		line := fmt.Sprintf("  %-66s %6.2f", r[0], median(per))
		if rounds > 1 {
			line += fmt.Sprintf("  [%.2f-%.2f]", slices.Min(per), slices.Max(per))
		}
		fmt.Fprintln(w, line)
	}
}

// median of xs, which it sorts in a copy.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
