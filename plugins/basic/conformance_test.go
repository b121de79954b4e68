package basic_test

import (
	"os"
	"testing"

	"github.com/realmd/realmd/plugins/basic"
	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/realmtest"
)

func TestMain(m *testing.M) {
	realmtest.ServeIfChild(basic.Plugin())
	os.Exit(m.Run())
}

func hash(t *testing.T, password string, opts basic.HashOptions) string {
	t.Helper()
	h, err := basic.Hash([]byte(password), opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestConformance drives the plugin through the real handshake with the
// SDK's conformance kit, in every role and under every type name.
func TestConformance(t *testing.T) {
	users := []any{
		map[string]any{"name": "alice", "hash": hash(t, "alice-pw", basic.HashOptions{BCrypt: basic.BCryptOptions{Rounds: 4}}),
			"backend_roles": []any{"admin"}, "security_roles": []any{"all_access"}, "attributes": map[string]any{"dept": "eng"}},
		map[string]any{"name": "bob", "hash": hash(t, "bob:pw", basic.HashOptions{Algorithm: basic.PBKDF2, PBKDF2: basic.PBKDF2Options{Iterations: 1000}}),
			"backend_roles": []any{"readall"}},
		map[string]any{"name": "carol", "hash": hash(t, "carol-pw", basic.HashOptions{Algorithm: basic.Argon2, Argon2: basic.Argon2Options{Memory: 256, Iterations: 1}})},
		map[string]any{"name": "dave", "backend_roles": []any{"nologin"}},
	}
	config := map[string]any{"users": users, "password_hashing": map[string]any{"algorithm": "bcrypt", "bcrypt": map[string]any{"rounds": 12}}}
	invalid := map[string]any{"users": []any{map[string]any{"name": "eve", "hash": "$2a$03$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"}}, "password_hashing": map[string]any{"bcrypt": map[string]any{"rounds": 99}}}
	invalidKeys := []string{"password_hashing.bcrypt.rounds", "users[0].hash"}

	alice := &sdk.User{Name: "alice", BackendRoles: []string{"admin"}, SecurityRoles: []string{"all_access"},
		Attributes: map[string]string{"attr.internal.dept": "eng"}, LoginName: "alice", CacheTTL: sdk.CacheForever}
	authnCases := []realmtest.AuthenticateCase{
		{Name: "bcrypt user", Credentials: sdk.Credentials{Username: "alice", Password: []byte("alice-pw")}, Want: alice},
		{Name: "pbkdf2 user", Credentials: sdk.Credentials{Username: "bob", Password: []byte("bob:pw")},
			Want: &sdk.User{Name: "bob", BackendRoles: []string{"readall"}, LoginName: "bob", CacheTTL: sdk.CacheForever}},
		{Name: "argon2 user", Credentials: sdk.Credentials{Username: "carol", Password: []byte("carol-pw")},
			Want: &sdk.User{Name: "carol", LoginName: "carol", CacheTTL: sdk.CacheForever}},
		{Name: "wrong password", Credentials: sdk.Credentials{Username: "alice", Password: []byte("bob:pw")}},
		{Name: "unknown user", Credentials: sdk.Credentials{Username: "mallory", Password: []byte("alice-pw")}},
		{Name: "user without a hash", Credentials: sdk.Credentials{Username: "dave", Password: []byte("x")}},
	}
	authzCases := []realmtest.AuthorizeCase{
		{Name: "alice", User: sdk.User{Name: "alice"}, Want: sdk.Grant{BackendRoles: []string{"admin"}, SecurityRoles: []string{"all_access"},
			Attributes: map[string]string{"attr.internal.dept": "eng"}, CacheTTL: sdk.CacheForever}},
		{Name: "dave", User: sdk.User{Name: "dave"}, Want: sdk.Grant{BackendRoles: []string{"nologin"}, CacheTTL: sdk.CacheForever}},
		{Name: "unknown user", User: sdk.User{Name: "mallory"}, Want: sdk.Grant{CacheTTL: sdk.CacheForever}},
	}
	basicHeader := func(v string) sdk.Request {
		return sdk.Request{Method: "GET", Path: "/", Header: map[string][]string{"Authorization": {v}}}
	}

	s := realmtest.Suite{
		Authenticators: []realmtest.Authenticator{{
			Type:      "basic",
			Challenge: &basic.Challenge,
			Cases: []realmtest.ExtractCase{
				{Name: "credentials", Request: basicHeader("Basic YWxpY2U6YWxpY2UtcHc="),
					Want: &sdk.Credentials{Username: "alice", Password: []byte("alice-pw"), CacheTTL: sdk.CacheForever}},
				{Name: "password with a colon", Request: basicHeader("Basic Ym9iOmJvYjpwdw=="),
					Want: &sdk.Credentials{Username: "bob", Password: []byte("bob:pw"), CacheTTL: sdk.CacheForever}},
				{Name: "Basic alone", Request: basicHeader("Basic")},
				{Name: "other header only", Request: sdk.Request{Header: map[string][]string{"X-Authorization": {"Basic YWxpY2U6YWxpY2UtcHc="}}}},
				{Name: "bad base64", Request: basicHeader("Basic YWxpY2U6-_"), Err: sdk.ErrMalformed},
				{Name: "empty password", Request: basicHeader("Basic YWxpY2U6"), Err: sdk.ErrMalformed},
			},
		}},
	}
	for _, typ := range []string{"internal", "intern"} {
		s.Backends = append(s.Backends, realmtest.Backend{Type: typ, Config: config, Invalid: invalid, InvalidKeys: invalidKeys, Cases: authnCases})
		s.Authorizers = append(s.Authorizers, realmtest.Authorizer{Type: typ, Config: config, Invalid: invalid, InvalidKeys: invalidKeys, Cases: authzCases})
	}
	realmtest.Run(t, s)
}
