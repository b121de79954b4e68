package bench

import (
	"fmt"
	"io"
	"net/http"
	"slices"
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
	roles := func() string {
		req, _ := http.NewRequest("GET", d.URL+"/auth", nil)
		req.Header.Set("Authorization", benchAuthorization)
		resp, err := http.DefaultClient.Do(req)
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
// throughput on a quiet config, in the same run. Any failed request fails
// the benchmark.
func BenchmarkReloadStorm(b *testing.B) {
	hash, _ := bcrypt.GenerateFromPassword([]byte(benchPassword), 4)
	dir := writeConfig(b, string(hash), 60)
	e2e.WriteFiles(b, dir, reloadFiles(string(hash), "a"))
	d := e2e.Start(b, dir, "--log-level", "warn")
	auth := []string{benchAuthorization}
	b.Run("quiet", func(b *testing.B) { load(b, d.URL+"/auth", auth) })
	b.Run("storm", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			n := 0
			for {
				select {
				case <-stop:
					done <- n
					return
				case <-time.After(100 * time.Millisecond):
				}
				e2e.WriteFiles(b, dir, reloadFiles(string(hash), []string{"b", "a"}[n%2]))
				n++
			}
		}()
		load(b, d.URL+"/auth", auth)
		close(stop)
		b.ReportMetric(float64(<-done), "reloads")
	})
	addRatio("/auth throughput: reload storm / quiet", "BenchmarkReloadStorm/storm", "BenchmarkReloadStorm/quiet")
}
