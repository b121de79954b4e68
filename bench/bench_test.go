// Package bench measures realmd against baselines run in the same process
// and prints the ratios, because absolute numbers on a shared 2-core
// machine mean little. Run it with `make bench`.
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// results collects ns/op per benchmark name so TestMain can print ratios.
var (
	resultsMu sync.Mutex
	results   = map[string]float64{}
)

func record(b *testing.B) {
	b.Helper()
	if b.N < 2 {
		return
	}
	nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	resultsMu.Lock()
	results[b.Name()] = nsPerOp
	resultsMu.Unlock()
}

// ratios lists which results to compare: name, numerator, denominator.
// A ratio is throughput(numerator) / throughput(denominator).
var ratios [][3]string

func addRatio(label, candidate, baseline string) {
	ratios = append(ratios, [3]string{label, candidate, baseline})
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		sdk.Serve(echoPlugin())
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
		fmt.Fprintf(w, "  %-60s %12.0f\n", n, 1e9/results[n])
	}
	fmt.Fprintln(w, "\nratios (throughput of candidate / baseline, same run):")
	for _, r := range ratios {
		cand, ok1 := results[r[1]]
		base, ok2 := results[r[2]]
		if !ok1 || !ok2 {
			continue
		}
		fmt.Fprintf(w, "  %-60s %6.2f\n", r[0], base/cand)
	}
}

// loadClient is an HTTP client for parallel benchmarks: keep-alive with
// enough idle connections for every goroutine.
func loadClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true}, Timeout: 30 * time.Second}
}

// hammer sends GET url with header from parallel goroutines b.N times in
// all and fails the benchmark on any status other than want.
func hammer(b *testing.B, c *http.Client, url string, header func(i int) http.Header, want int) {
	b.Helper()
	b.SetParallelism(16)
	var seq sync.Mutex
	n := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			seq.Lock()
			i := n
			n++
			seq.Unlock()
			req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
			if header != nil {
				req.Header = header(i)
			}
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
		}
	})
	b.StopTimer()
	record(b)
}
