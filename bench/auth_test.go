package bench

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/realmd/realmd/internal/e2e"
)

const benchPassword = "bench-password"

var benchAuthorization = "Basic " + base64.StdEncoding.EncodeToString([]byte("bench:"+benchPassword))

// writeConfig writes a config dir with one basic+internal domain and a user
// whose bcrypt hash has cost 4, so that hashing does not drown the hop.
func writeConfig(b *testing.B, hash string, ttlMinutes int) string {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"config.yml": `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend: {type: internal}
`,
		"internal_users.yml": fmt.Sprintf("_meta: {type: internalusers, config_version: 2}\nbench:\n  hash: %q\n  backend_roles: [bench]\n", hash),
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\nreadall:\n  backend_roles: [bench]\n",
		"roles.yml":          "_meta: {type: roles, config_version: 2}\n",
		"realmd.yml":         fmt.Sprintf("cache: {ttl_minutes: %d}\n", ttlMinutes),
	}
	e2e.WriteFiles(b, dir, files)
	return dir
}

// bcryptBaseline checks the bench user's password in the handler itself:
// the work an uncached realmd request does, without plugin hop or pipeline.
func bcryptBaseline() http.Handler {
	hash := []byte(os.Getenv("REALMD_BENCH_HASH"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "bench" || bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", user)
	})
}

// BenchmarkForwardAuth measures GET /auth with HTTP Basic credentials:
// cached, and uncached over both plugin transports, against a bare handler
// (with Go's defaults and with realmd's runtime settings; see BenchmarkJWT) and a
// handler doing the same bcrypt check in process.
func BenchmarkForwardAuth(b *testing.B) {
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 4)
	if err != nil {
		b.Fatal(err)
	}
	auth := []string{benchAuthorization}
	eachRound(func() {
		b.Run("bare-handler", func(b *testing.B) {
			load(b, startBaseline(b, "bare")+"/auth", auth)
		})
		b.Run("bare-handler-realmd-runtime", func(b *testing.B) {
			load(b, startBaseline(b, "bare", realmdRuntime...)+"/auth", auth)
		})
		b.Run("bcrypt4-in-process", func(b *testing.B) {
			load(b, startBaseline(b, "bcrypt", "REALMD_BENCH_HASH="+string(hash))+"/auth", auth)
		})
		b.Run("realmd-cached", func(b *testing.B) {
			d := e2e.Start(b, writeConfig(b, string(hash), 60), "--log-level", "warn")
			load(b, d.URL+"/auth", auth)
		})
		for _, transport := range []string{"stream", "unary"} {
			b.Run("realmd-uncached-"+transport, func(b *testing.B) {
				b.Setenv("REALMD_PLUGIN_TRANSPORT", transport)
				d := e2e.Start(b, writeConfig(b, string(hash), 0), "--log-level", "warn")
				load(b, d.URL+"/auth", auth)
			})
		}
	})
	addRatio("cached /auth / bare handler", "BenchmarkForwardAuth/realmd-cached", "BenchmarkForwardAuth/bare-handler")
	addRatio("cached /auth / bare handler, same runtime settings", "BenchmarkForwardAuth/realmd-cached", "BenchmarkForwardAuth/bare-handler-realmd-runtime")
	addRatio("uncached /auth (stream) / in-process bcrypt", "BenchmarkForwardAuth/realmd-uncached-stream", "BenchmarkForwardAuth/bcrypt4-in-process")
	addRatio("uncached /auth (unary) / in-process bcrypt", "BenchmarkForwardAuth/realmd-uncached-unary", "BenchmarkForwardAuth/bcrypt4-in-process")
	addRatio("uncached /auth: stream / unary", "BenchmarkForwardAuth/realmd-uncached-stream", "BenchmarkForwardAuth/realmd-uncached-unary")
}
