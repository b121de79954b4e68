package pipeline_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/e2e"
	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

// jwtCacheConfig is a jwt domain reading the Authorization header and the
// URL parameter "token", with no clock skew, signed by key.
func jwtCacheConfig(key string) string {
	return `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      jwt:
        http_enabled: true
        order: 0
        http_authenticator:
          type: jwt
          challenge: true
          config:
            signing_key: "` + key + `"
            jwt_url_parameter: token
            jwt_clock_skew_tolerance_seconds: 0
        authentication_backend:
          type: noop
`
}

// TestE2E_JWTCacheAnswersTheTokenTheRealmReads runs realmd with the jwt
// plugin and the identity cache on, and checks that no cached identity
// answers a request whose token the realm would read as another: a token
// in the URL parameter (repeated, `;`-separated, percent-encoded, behind
// X-Forwarded-Uri) or in the header beside it; that an entry ends at the
// token's exp; and that a reload with a new signing key answers no token
// of the old one from the cache.
func TestE2E_JWTCacheAnswersTheTokenTheRealmReads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	oldKey, newKey := jwttest.Shared("HS256", "cache-old"), jwttest.Shared("HS256", "cache-new")
	dir := t.TempDir()
	files := map[string]string{
		"config.yml":         jwtCacheConfig(oldKey.SigningKey()),
		"internal_users.yml": "_meta: {type: internalusers, config_version: 2}\n",
		"roles.yml":          "_meta: {type: roles, config_version: 2}\n",
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\n",
	}
	e2e.WriteFiles(t, dir, files)
	d := e2e.Start(t, dir)
	sign := func(k *jwttest.Key, sub string, exp time.Time) string {
		return k.Sign(map[string]any{"sub": sub, "exp": exp.Unix()}, nil)
	}
	later := time.Now().Add(time.Hour)
	alice, bob := sign(oldKey, "alice", later), sign(oldKey, "bob", later)
	hits := func() int {
		_, _, body := d.Do(t, "GET", "/metrics", nil)
		m := regexp.MustCompile(`(?m)^realmd_identity_cache_hits_total (\d+)`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no cache hit counter in /metrics")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	user := func(path string, h http.Header) string {
		t.Helper()
		code, hdr, _ := d.Do(t, "GET", path, h)
		if code != http.StatusOK {
			return strconv.Itoa(code)
		}
		return hdr.Get("X-Auth-User")
	}

	steps := []struct {
		name   string
		path   string
		header http.Header
		want   string
	}{
		{name: "alice in the parameter", path: "/auth?token=" + alice, want: "alice"},
		{name: "bob in the parameter", path: "/auth?token=" + bob, want: "bob"},
		{name: "alice again (a hit)", path: "/auth?token=" + alice, want: "alice"},
		{name: "a repeated parameter is its last value", path: "/auth?token=" + alice + "&token=" + bob, want: "bob"},
		{name: "; separates parameters too", path: "/auth?token=" + bob + ";token=" + alice, want: "alice"},
		{name: "a percent-encoded token is the same token", path: "/auth?token=" + strings.ReplaceAll(bob, ".", "%2E"), want: "bob"},
		{name: "X-Forwarded-Uri's query, not /auth's", path: "/auth?token=" + alice,
			header: http.Header{"X-Forwarded-Uri": {"/app?token=" + bob}}, want: "bob"},
		{name: "X-Forwarded-Uri's query the other way", path: "/auth?token=" + bob,
			header: http.Header{"X-Forwarded-Uri": {"/app?token=" + alice}}, want: "alice"},
		{name: "the header before the parameter", path: "/auth?token=" + bob,
			header: http.Header{"Authorization": {"Bearer " + alice}}, want: "alice"},
		{name: "a Basic header leaves the parameter", path: "/auth?token=" + bob,
			header: http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}, want: "bob"},
		{name: "the same Basic header with another parameter", path: "/auth?token=" + alice,
			header: http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}, want: "alice"},
		{name: "the header's last line", path: "/auth",
			header: http.Header{"Authorization": {"Bearer " + alice, "Bearer " + bob}}, want: "bob"},
		{name: "the header's last line the other way", path: "/auth",
			header: http.Header{"Authorization": {"Bearer " + bob, "Bearer " + alice}}, want: "alice"},
	}
	for _, s := range steps {
		if got := user(s.path, s.header); got != s.want {
			t.Errorf("%s: answered %q, want %q\nlog:\n%s", s.name, got, s.want, d.Log())
		}
	}
	if n := hits(); n == 0 {
		t.Fatalf("no cache hit in %d requests: the steps prove nothing about the cache", len(steps))
	}

	t.Run("an entry ends at exp", func(t *testing.T) {
		exp := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
		carol := "/auth?token=" + sign(oldKey, "carol", exp)
		before := hits()
		got, again := user(carol, nil), user(carol, nil)
		if !time.Now().Before(exp) {
			t.Skip("the machine took until exp for two requests; nothing to check")
		}
		if got != "carol" || again != "carol" {
			t.Fatalf("before exp: %q, %q", got, again)
		}
		if hits() == before {
			t.Fatal("carol's second request was not a hit")
		}
		time.Sleep(time.Until(exp) + 100*time.Millisecond)
		if got := user(carol, nil); got != "401" {
			t.Errorf("after exp: answered %q, want 401", got)
		}
	})

	t.Run("a reload with a new key answers no old token from the cache", func(t *testing.T) {
		if got := user("/auth?token="+alice, nil); got != "alice" {
			t.Fatalf("before the reload: %q", got)
		}
		e2e.WriteFiles(t, dir, map[string]string{"config.yml": jwtCacheConfig(newKey.SigningKey())})
		dave := "/auth?token=" + sign(newKey, "dave", later)
		deadline := time.Now().Add(10 * time.Second)
		for user(dave, nil) != "dave" {
			if time.Now().After(deadline) {
				t.Fatalf("the new key was not loaded\nlog:\n%s", d.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := user("/auth?token="+alice, nil); got != "401" {
			t.Errorf("a token of the old key after the reload: answered %q, want 401", got)
		}
	})
}
