package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/realmd/realmd/internal/e2e"
)

const reloadSamples = 30

// reloadDir writes a config whose one user's backend role is role.
func reloadFiles(hash, role string) map[string]string {
	return map[string]string{
		"internal_users.yml": fmt.Sprintf("_meta: {type: internalusers, config_version: 2}\nbench:\n  hash: %q\n  backend_roles: [%s]\n", hash, role),
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\nrole_a:\n  backend_roles: [a]\nrole_b:\n  backend_roles: [b]\n",
	}
}

// BenchmarkReload measures how long an edit of internal_users.yml takes to
// answer requests (file write to the first answer with the new roles: file
// watch, debounce, load, start of the changed backend process, swap), over
// reloadSamples edits per run. It reports p50 and p99; ns/op is one whole
// run and means little.
func BenchmarkReload(b *testing.B) {
	hash, _ := bcrypt.GenerateFromPassword([]byte(benchPassword), 4)
	dir := writeConfig(b, string(hash), 60)
	e2e.WriteFiles(b, dir, reloadFiles(string(hash), "a"))
	d := e2e.Start(b, dir, "--log-level", "warn")
	client := loadClient()
	auth := basicAuth("bench", benchPassword)
	roles := func() string {
		req, _ := http.NewRequest("GET", d.URL+"/auth", nil)
		req.Header = auth
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("X-Auth-Roles")
	}
	var latencies []time.Duration
	for range b.N {
		for i := range reloadSamples {
			role := []string{"b", "a"}[i%2]
			start := time.Now()
			e2e.WriteFiles(b, dir, reloadFiles(string(hash), role))
			for roles() != "role_"+role {
				if time.Since(start) > 10*time.Second {
					b.Fatalf("reload %d not live after 10s", i)
				}
				time.Sleep(time.Millisecond)
			}
			latencies = append(latencies, time.Since(start))
		}
	}
	slices.Sort(latencies)
	p := func(q float64) float64 { return float64(latencies[int(q*float64(len(latencies)-1))].Milliseconds()) }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}

// BenchmarkReloadStorm compares /auth throughput while the config reloads
// every 100 ms (each reload restarts the internal backend's process) with
// throughput on a quiet config, in the same run, and reports the ratio.
func BenchmarkReloadStorm(b *testing.B) {
	hash, _ := bcrypt.GenerateFromPassword([]byte(benchPassword), 4)
	dir := writeConfig(b, string(hash), 60)
	e2e.WriteFiles(b, dir, reloadFiles(string(hash), "a"))
	d := e2e.Start(b, dir, "--log-level", "warn")
	client := loadClient()
	auth := basicAuth("bench", benchPassword)
	window := 3 * time.Second

	measure := func(storm bool) (rps float64, failed int64) {
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		var ok, bad atomic.Int64
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, "GET", d.URL+"/auth", nil)
					req.Header = auth
					resp, err := client.Do(req)
					if err != nil {
						if ctx.Err() == nil {
							bad.Add(1)
						}
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					} else {
						bad.Add(1)
					}
				}
			}()
		}
		if storm {
			for i := 0; ctx.Err() == nil; i++ {
				e2e.WriteFiles(b, dir, reloadFiles(string(hash), []string{"b", "a"}[i%2]))
				time.Sleep(100 * time.Millisecond)
			}
		}
		wg.Wait()
		return float64(ok.Load()) / window.Seconds(), bad.Load()
	}
	for range b.N {
		quiet, qbad := measure(false)
		storm, sbad := measure(true)
		if qbad+sbad > 0 {
			b.Errorf("%d requests failed (%d during the storm)", qbad+sbad, sbad)
		}
		b.ReportMetric(quiet, "quiet-rps")
		b.ReportMetric(storm, "storm-rps")
		b.ReportMetric(storm/quiet, "storm/quiet")
	}
}

func basicAuth(user, password string) http.Header {
	h := http.Header{}
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	h.Set("Authorization", r.Header.Get("Authorization"))
	return h
}
