package jwt

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/e2e"
	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

// TestE2E_EveryAlgorithm runs the built realmd with two jwt domains: static
// keys of every algorithm (order 1, not challenging) and a JWKS endpoint
// with a key of every algorithm (order 2, challenging). Every algorithm must
// authenticate through both, through /auth and authinfo; refusals get the
// Bearer challenge; a JWKS endpoint that is down gives 503.
func TestE2E_EveryAlgorithm(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	static := map[string]*jwttest.Key{}
	var staticKeys []string
	var jwks []json.RawMessage
	for _, alg := range jwttest.Algorithms {
		static[alg] = jwttest.Shared(alg, "e2e-static")
		staticKeys = append(staticKeys, static[alg].SigningKey())
		jwks = append(jwks, jwttest.Shared(alg, "e2e-jwks").JWK("kid-"+alg, true))
	}
	p := newIDP(t, jwks...)
	d := e2e.Start(t, e2eConfig(t, staticKeys, p.srv.URL+"/jwks"))

	type authinfo struct {
		UserName     string            `json:"user_name"`
		BackendRoles []string          `json:"backend_roles"`
		Roles        []string          `json:"roles"`
		Domain       string            `json:"domain"`
		Attributes   map[string]string `json:"attributes"`
	}
	get := func(t *testing.T, path string, header http.Header) (int, http.Header, string, authinfo) {
		t.Helper()
		code, h, body := d.Do(t, "GET", path, header)
		var info authinfo
		if code == http.StatusOK && strings.HasPrefix(path, "/_plugins") {
			if err := json.Unmarshal([]byte(body), &info); err != nil {
				t.Fatalf("%v in %q", err, body)
			}
		}
		return code, h, body, info
	}
	token := func(k *jwttest.Key, user, kid string, exp time.Duration) string {
		h := map[string]any{}
		if kid != "" {
			h["kid"] = kid
		}
		return k.Sign(map[string]any{"sub": user, "roles": "reader," + k.Alg, "exp": time.Now().Add(exp).Unix()}, h)
	}

	for _, alg := range jwttest.Algorithms {
		t.Run("static/"+alg, func(t *testing.T) {
			user := "static-" + strings.ToLower(alg)
			h := http.Header{"Authorization": {"Bearer " + token(static[alg], user, "", time.Hour)}}
			code, _, body, info := get(t, "/_plugins/_security/authinfo", h)
			if code != http.StatusOK || info.UserName != user || !slices.Contains(info.BackendRoles, alg) || info.Domain != "jwt_static" ||
				!slices.Contains(info.Roles, "jwt_reader") || info.Attributes["attr.jwt.sub"] != user {
				t.Fatalf("status %d, %+v (%s)\nlog:\n%s", code, info, body, d.Log())
			}
			if code, _, body, _ := get(t, "/auth", h); code != http.StatusOK {
				t.Fatalf("/auth: status %d (%s)", code, body)
			}
		})
		t.Run("jwks/"+alg, func(t *testing.T) {
			user := "jwks-" + strings.ToLower(alg)
			h := http.Header{"Authorization": {"Bearer " + token(jwttest.Shared(alg, "e2e-jwks"), user, "kid-"+alg, time.Hour)}}
			code, _, body, info := get(t, "/_plugins/_security/authinfo", h)
			if code != http.StatusOK || info.UserName != user || !slices.Contains(info.BackendRoles, alg) || info.Domain != "jwt_jwks" {
				t.Fatalf("status %d, %+v (%s)\nlog:\n%s", code, info, body, d.Log())
			}
		})
	}

	refused := map[string]string{
		"no token":                "",
		"Basic credentials":       "Basic YWRtaW46YWRtaW4=",
		"alg none":                "Bearer " + enc(`{"alg":"none"}`) + "." + enc(`{"sub":"admin"}`) + ".",
		"expired":                 "Bearer " + token(static["ES256"], "late", "", -time.Hour),
		"another key":             "Bearer " + token(jwttest.Shared("ES256", "e2e-stranger"), "mallory", "", time.Hour),
		"HMAC with the RSA bytes": "Bearer " + jwttest.SignRaw("HS256", []byte(static["RS256"].SigningKey()), []byte(`{"alg":"HS256"}`), []byte(`{"sub":"admin"}`)),
	}
	for name, value := range refused {
		t.Run("refused/"+name, func(t *testing.T) {
			h := http.Header{}
			if value != "" {
				h.Set("Authorization", value)
			}
			code, hdr, body, _ := get(t, "/_plugins/_security/authinfo", h)
			if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != ChallengeValue || body != "" {
				t.Fatalf("status %d, WWW-Authenticate %q, body %q; want 401 Bearer with an empty body", code, hdr.Get("WWW-Authenticate"), body)
			}
		})
	}

	t.Run("JWKS endpoint down gives 503", func(t *testing.T) {
		p.srv.Close()
		// An unknown kid is answered from the set fetched less than an
		// interval ago (10 ms here); after that, the next one fetches.
		time.Sleep(10 * time.Millisecond)
		h := http.Header{"Authorization": {"Bearer " + token(jwttest.Shared("ES256", "e2e-jwks"), "x", "kid-rotated", time.Hour)}}
		if code, hdr, body, _ := get(t, "/_plugins/_security/authinfo", h); code != http.StatusServiceUnavailable {
			t.Fatalf("status %d (Retry-After %q), body %q, want 503\nlog:\n%s", code, hdr.Get("Retry-After"), body, d.Log())
		}
		// Known keys keep working while the provider is down.
		h = http.Header{"Authorization": {"Bearer " + token(jwttest.Shared("RS256", "e2e-jwks"), "still-here", "kid-RS256", time.Hour)}}
		if code, _, body, _ := get(t, "/_plugins/_security/authinfo", h); code != http.StatusOK {
			t.Fatalf("known kid while the provider is down: status %d (%s)", code, body)
		}
	})
}

// e2eConfig writes an OpenSearch config directory with the two jwt domains.
func e2eConfig(t *testing.T, staticKeys []string, jwksURI string) string {
	t.Helper()
	dir := t.TempDir()
	keys, err := json.Marshal(staticKeys)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config.yml": `_meta:
  type: "config"
  config_version: 2
config:
  dynamic:
    authc:
      jwt_static:
        http_enabled: true
        order: 1
        http_authenticator:
          type: jwt
          challenge: false
          config:
            signing_key: ` + string(keys) + `
            roles_key: roles
        authentication_backend:
          type: noop
      jwt_jwks:
        http_enabled: true
        order: 2
        http_authenticator:
          type: jwt
          challenge: true
          config:
            jwks_uri: "` + jwksURI + `"
            refresh_rate_limit_time_window_ms: 10
            refresh_rate_limit_count: 1
            roles_key: roles
            signing_key: "ignored in JWKS mode"
        authentication_backend:
          type: noop
`,
		"internal_users.yml": "_meta:\n  type: \"internalusers\"\n  config_version: 2\n",
		"roles.yml":          "_meta:\n  type: \"roles\"\n  config_version: 2\njwt_reader:\n  reserved: false\n",
		"roles_mapping.yml":  "_meta:\n  type: \"rolesmapping\"\n  config_version: 2\njwt_reader:\n  backend_roles: [\"reader\"]\n",
	}
	e2e.WriteFiles(t, dir, files)
	return dir
}
