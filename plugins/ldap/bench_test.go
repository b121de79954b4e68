package ldap

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAuthenticate_PoolVsFresh measures uncached LDAP authentication
// (user search plus user bind) with the connection pools against a fresh
// connection per operation, alternating the two in one loop so both see
// the same machine load. It reports each path's time per authentication
// and fresh/pooled, the factor the pool is worth. Skipped when slapd cannot
// start (outside CI).
func BenchmarkAuthenticate_PoolVsFresh(b *testing.B) {
	s := startDirectory(b)
	transports := []struct {
		name   string
		config map[string]any
	}{
		{name: "ldap", config: map[string]any{"hosts": s.LDAPAddr()}},
		{name: "starttls", config: map[string]any{"hosts": s.LDAPAddr(), "enable_start_tls": true, "pemtrustedcas_filepath": s.CAFile}},
		{name: "ldaps", config: map[string]any{"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_filepath": s.CAFile}},
	}
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			cfg := merge(tr.config, map[string]any{"usersearch": "(uid={0})", "userbase": "ou=people,o=TEST"})
			pooled := newTestBackend(b, merge(cfg, map[string]any{"pool": map[string]any{"enabled": true, "min_size": 1}}), nil)
			fresh := newTestBackend(b, merge(cfg, map[string]any{"pool": map[string]any{"enabled": false}}), nil)
			ctx := context.Background()
			auth := func(be *backend) time.Duration {
				start := time.Now()
				u, err := be.Authenticate(ctx, creds("jacksonm", "secret"))
				if err != nil || u == nil {
					b.Fatalf("Authenticate: %v, %v", u, err)
				}
				return time.Since(start)
			}
			auth(pooled)
			auth(fresh)
			var tPooled, tFresh time.Duration
			for b.Loop() {
				tPooled += auth(pooled)
				tFresh += auth(fresh)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tPooled.Nanoseconds())/n, "pooled-ns/auth")
			b.ReportMetric(float64(tFresh.Nanoseconds())/n, "fresh-ns/auth")
			b.ReportMetric(float64(tFresh)/float64(tPooled), "fresh/pooled")
			b.ReportMetric(float64(fresh.dir.dialer.dials.Load())/n, "fresh-dials/auth")
		})
	}
}
