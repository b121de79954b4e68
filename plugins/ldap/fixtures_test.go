package ldap

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/internal/testenv/slapd"
	"github.com/realmd/realmd/sdk"
)

// The directories of the fixtures (testdata/README.md).
const (
	testSuffix    = "o=TEST"
	exampleSuffix = "dc=example,dc=org"
	jacksonDN     = "cn=Michael Jackson,ou=people,o=TEST"
)

// startDirectory runs slapd with OpenSearch's fixtures under o=TEST and
// realmd's nested groups under dc=example,dc=org.
func startDirectory(t testing.TB) *slapd.Server {
	t.Helper()
	base := readFixture(t, "base.ldif")
	// OpenLDAP's schema has no ;binary option for userSMIMECertificate.
	base = strings.ReplaceAll(base, "userSMIMECertificate;binary:", "userSMIMECertificate:")
	s := slapd.Start(t, slapd.WithSuffix(testSuffix), slapd.WithSuffix(exampleSuffix),
		slapd.WithLDIF(base), slapd.WithLDIF(readFixture(t, "base2.ldif")))
	s.Add(readFixture(t, "nested.ldif"))
	return s
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readTestConfig reads m and fails t on any problem.
func readTestConfig(t testing.TB, m map[string]any, logs *testenv.LogBuffer) *sdk.Config {
	t.Helper()
	var logger hclog.Logger = hclog.NewNullLogger()
	if logs != nil {
		logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	}
	raw, err := json.Marshal(m) // as realmd sends it: numbers are float64
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sdk.NewConfig(raw, t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newTestBackend builds and provisions a backend; Cleanup runs at the end.
func newTestBackend(t testing.TB, m map[string]any, logs *testenv.LogBuffer) *backend {
	t.Helper()
	cfg := readTestConfig(t, m, logs)
	b, err := NewBackend(cfg)
	if err != nil || cfg.Err() != nil {
		t.Fatalf("config problems: %v %v", err, cfg.Err())
	}
	provision(t, b.(*backend).realm)
	return b.(*backend)
}

func newTestAuthorizer(t testing.TB, m map[string]any, logs *testenv.LogBuffer) *authorizer {
	t.Helper()
	cfg := readTestConfig(t, m, logs)
	a, err := NewAuthorizer(cfg)
	if err != nil || cfg.Err() != nil {
		t.Fatalf("config problems: %v %v", err, cfg.Err())
	}
	provision(t, a.(*authorizer).realm)
	return a.(*authorizer)
}

func provision(t testing.TB, r *realm) {
	t.Helper()
	if err := r.Provision(context.Background()); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() { _ = r.Cleanup() })
}

// merge returns a copy of base with the keys of extra set (nil deletes).
func merge(base map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func creds(user, password string) *sdk.Credentials {
	return &sdk.Credentials{Username: user, Password: []byte(password)}
}

// contains reports whether s contains every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
