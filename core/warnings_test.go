package core

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

// warningConfigDir writes a config whose plugins load but warn: a jwt
// domain with no key (config.yml line 11) and an internal user whose hash
// is of no known format (internal_users.yml line 3).
func warningConfigDir(t *testing.T) string {
	return placeholderUserDir(t, `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic_internal_auth_domain:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend: {type: intern}
      jwt_auth_domain:
        order: 1
        http_authenticator:
          type: jwt
          challenge: false
        authentication_backend: {type: noop}
`)
}

// placeholderUserDir writes config.yml and an internal_users.yml whose one
// user, admin, has a hash of no known format (line 3).
func placeholderUserDir(t *testing.T, configYML string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		config.ConfigFile:        configYML,
		config.InternalUsersFile: "_meta: {type: internalusers, config_version: 2}\nadmin:\n  hash: \"placeholder\"\n",
		config.RolesMappingFile:  "_meta: {type: rolesmapping, config_version: 2}\n",
		config.RolesFile:         "_meta: {type: roles, config_version: 2}\n",
	} {
		writeFile(t, filepath.Join(dir, name), body)
	}
	return dir
}

const (
	jwtWarning  = "config.yml:11: warning: config.dynamic.authc.jwt_auth_domain.http_authenticator.config: no signing_key and no jwks_uri: this jwt domain will not authenticate anybody"
	hashWarning = "internal_users.yml:3: warning: admin.hash: user \"admin\" can never log in with a password: the hash is not a bcrypt, PBKDF2 or Argon2 hash realmd can verify; make one with `realmd hash`"
)

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestCheck_ShowsPluginWarningsAtTheirLines(t *testing.T) {
	ps := Check(context.Background(), Options{Dir: warningConfigDir(t), Builtins: testBuiltins(), Executable: testExecutable(t)})
	if err := ps.Err(); err != nil {
		t.Fatalf("warnings failed the check: %v", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	// The loader warns about the hash too, at its own line and in its own
	// words; only the plugins' warnings are counted here.
	for _, w := range []string{jwtWarning, hashWarning} {
		if n := slices.Index(got, w); n < 0 || slices.Index(got[n+1:], w) >= 0 {
			t.Errorf("check reported\n%s\nwant %q once", strings.Join(got, "\n"), w)
		}
	}
}

// Each plugin warning is logged once, at its file and line, when the
// instance starts: not by the plugin in each Configure pass, and not again
// by a generation that reuses the instance.
func TestGeneration_LogsEachPluginWarningOnce(t *testing.T) {
	dir := warningConfigDir(t)
	s, ps := config.Load(dir)
	if s == nil {
		t.Fatalf("load: %v", ps)
	}
	var logs testenv.LogBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	cat := NewCatalog(testBuiltins(), testExecutable(t), s.Realmd)
	pool := newInstancePool()
	g1, err := buildGeneration(context.Background(), 1, s, cat, pool, logger)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := buildGeneration(context.Background(), 2, s, cat, pool, logger) // reuses every instance
	if err != nil {
		g1.close()
		t.Fatal(err)
	}
	g1.close()
	g2.close() // stops the plugins, so that anything they logged has arrived
	out := logs.String()
	for _, w := range []struct{ problem, words string }{
		{jwtWarning, "will not authenticate anybody"},
		{hashWarning, "can never log in with a password"},
	} {
		if n := strings.Count(out, w.words); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", w.words, n, out)
		}
		if line := "config warning: problem=" + strconv.Quote(w.problem); !strings.Contains(out, line) {
			t.Errorf("no log line %s:\n%s", line, out)
		}
	}
}

// twoInternalInstancesDir is a config with two instances of the internal
// realm, an authc backend and an authz backend, both given
// internal_users.yml: one bad hash must still be one warning (found by
// review).
func twoInternalInstancesDir(t *testing.T) string {
	return placeholderUserDir(t, `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic_internal_auth_domain:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend: {type: intern}
    authz:
      roles_from_internal:
        authorization_backend: {type: internal}
`)
}

func TestCheck_AWarningTwoInstancesShareIsShownOnce(t *testing.T) {
	ps := Check(context.Background(), Options{Dir: twoInternalInstancesDir(t), Builtins: testBuiltins(), Executable: testExecutable(t)})
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if n := strings.Count(strings.Join(got, "\n"), "can never log in"); n != 1 {
		t.Errorf("check printed the hash warning %d times, want 1:\n%s", n, strings.Join(got, "\n"))
	}
}

func TestGeneration_AWarningTwoInstancesShareIsLoggedOnce(t *testing.T) {
	s, ps := config.Load(twoInternalInstancesDir(t))
	if s == nil {
		t.Fatal(ps)
	}
	var logs testenv.LogBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	g, err := buildGeneration(context.Background(), 1, s, NewCatalog(testBuiltins(), testExecutable(t), s.Realmd), newInstancePool(), logger)
	if err != nil {
		t.Fatal(err)
	}
	g.close()
	if n := strings.Count(logs.String(), "can never log in"); n != 1 {
		t.Errorf("serve logged the hash warning %d times, want 1:\n%s", n, logs.String())
	}
}

// (found by review) A third-party realm's warning about its own users[0] key lands on
// config.yml, not on the first internal user.
func TestWarningsOf_AThirdPartyRealmsUsersKeyStaysInItsConfig(t *testing.T) {
	s, ps := config.Load(twoInternalInstancesDir(t))
	if s == nil {
		t.Fatal(ps)
	}
	c := component{
		spec: InstanceSpec{Name: "authc.api.http_authenticator", Role: sdk.RoleAuthenticator, Type: "apikey"},
		comp: config.Component{Type: "apikey", Path: "config.dynamic.authc.api.http_authenticator", Pos: config.Pos{File: config.ConfigFile, Line: 20}},
	}
	ws := warningsOf(s, c, []sdk.Problem{{Key: "users[0]", Message: "root is risky"}})
	if len(ws) != 1 || ws[0].File != config.ConfigFile {
		t.Errorf("apikey's warning about its users[0] became %q, want it in %s", ws[0].String(), config.ConfigFile)
	}
}

// A validate-only pass reads no file, so check warns about a depended-on
// file that is missing: serve would fail to start the realm (found by
// review: check passed a config that serve refused).
func TestCheck_WarnsAboutADependedOnFileThatIsMissing(t *testing.T) {
	dir := placeholderUserDir(t, `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      jwt_auth_domain:
        order: 0
        http_authenticator:
          type: jwt
          config:
            jwks_uri: https://idp.example/jwks
            jwks: {pemtrustedcas_filepath: missing-ca.pem}
        authentication_backend: {type: noop}
`)
	ps := Check(context.Background(), Options{Dir: dir, Builtins: testBuiltins(), Executable: testExecutable(t)})
	want := "config.yml:7: warning: config.dynamic.authc.jwt_auth_domain.http_authenticator.config: the realm reads " +
		filepath.Join(dir, "missing-ca.pem") + " when it starts, and it cannot: no such file or directory"
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if !slices.Contains(got, want) {
		t.Errorf("check said:\n%s\nwant the line\n%s", strings.Join(got, "\n"), want)
	}
	if ps.Err() != nil {
		t.Errorf("a missing file is a warning, not an error: %v", ps.Err())
	}
}

// A realm's warnings come with its refusal: a refused start or reload
// reports them beside the problems, as the realm no longer logs them
// itself (found by review: they appeared nowhere but in realmd check).
func TestGeneration_ARefusalCarriesTheRealmsWarnings(t *testing.T) {
	dir := placeholderUserDir(t, `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      jwt_auth_domain:
        order: 0
        http_authenticator:
          type: jwt
          config: {subjectkey: sub}
        authentication_backend: {type: noop}
`)
	s, ps := config.Load(dir)
	if s == nil {
		t.Fatalf("load: %v", ps)
	}
	_, err := buildGeneration(context.Background(), 1, s, NewCatalog(testBuiltins(), testExecutable(t), s.Realmd), newInstancePool(), hclog.NewNullLogger())
	if err == nil {
		t.Fatal("a config with an unknown key was accepted")
	}
	for _, want := range []string{`unknown key "subjectkey"`, "warning: config.dynamic.authc.jwt_auth_domain.http_authenticator.config: no signing_key and no jwks_uri"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
}
