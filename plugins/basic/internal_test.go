package basic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/realmd/realmd/sdk"
)

// mustHash hashes with cheap parameters for tests.
func mustHash(t testing.TB, password, algorithm string) string {
	t.Helper()
	opts := HashOptions{
		Algorithm: algorithm,
		BCrypt:    BCryptOptions{Rounds: 4},
		PBKDF2:    PBKDF2Options{Iterations: 1000},
		Argon2:    Argon2Options{Memory: 256, Iterations: 1},
	}
	h, err := Hash([]byte(password), opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// configure builds a Config from an instance config map and fails t on
// any problem.
func configure(t testing.TB, m map[string]any) *sdk.Config {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sdk.NewConfig(raw, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testUsers(t testing.TB) []any {
	return []any{
		map[string]any{"name": "alice", "hash": mustHash(t, "alice-pw", BCrypt), "backend_roles": []any{"admin", "ops"},
			"security_roles": []any{"all_access"}, "attributes": map[string]any{"dept": "eng", "level": 3, "remote": true}},
		map[string]any{"name": "bob", "hash": mustHash(t, "bob:pw", PBKDF2), "backend_roles": []any{"readall"}},
		map[string]any{"name": "carol", "hash": mustHash(t, "carol-pw", Argon2)},
		map[string]any{"name": "dave", "backend_roles": []any{"nologin"}},
	}
}

func newTestBackend(t testing.TB) *backend {
	cfg := configure(t, map[string]any{"users": testUsers(t)})
	b, _ := newBackend(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	return b.(*backend)
}

func TestInternal_Authenticate(t *testing.T) {
	b := newTestBackend(t)
	alice := &sdk.User{
		Name: "alice", BackendRoles: []string{"admin", "ops"}, SecurityRoles: []string{"all_access"},
		Attributes: map[string]string{"attr.internal.dept": "eng", "attr.internal.level": "3", "attr.internal.remote": "true"},
		LoginName:  "alice", CacheTTL: sdk.CacheForever,
	}
	tests := []struct {
		name  string
		creds sdk.Credentials
		want  *sdk.User
	}{
		{name: "bcrypt user with the right password", creds: sdk.Credentials{Username: "alice", Password: []byte("alice-pw")}, want: alice},
		{name: "credential attributes are kept", creds: sdk.Credentials{Username: "alice", Password: []byte("alice-pw"), Attributes: map[string]string{"attr.proxy.x": "1"}},
			want: &sdk.User{Name: "alice", BackendRoles: alice.BackendRoles, SecurityRoles: alice.SecurityRoles, LoginName: "alice", CacheTTL: sdk.CacheForever,
				Attributes: map[string]string{"attr.proxy.x": "1", "attr.internal.dept": "eng", "attr.internal.level": "3", "attr.internal.remote": "true"}}},
		{name: "pbkdf2 user with a colon in the password", creds: sdk.Credentials{Username: "bob", Password: []byte("bob:pw")},
			want: &sdk.User{Name: "bob", BackendRoles: []string{"readall"}, LoginName: "bob", CacheTTL: sdk.CacheForever}},
		{name: "argon2 user", creds: sdk.Credentials{Username: "carol", Password: []byte("carol-pw")},
			want: &sdk.User{Name: "carol", LoginName: "carol", CacheTTL: sdk.CacheForever}},
		{name: "wrong password is rejected", creds: sdk.Credentials{Username: "alice", Password: []byte("alice-PW")}},
		{name: "user names are case-sensitive", creds: sdk.Credentials{Username: "Alice", Password: []byte("alice-pw")}},
		{name: "unknown user is rejected", creds: sdk.Credentials{Username: "mallory", Password: []byte("alice-pw")}},
		{name: "user without a hash can never log in", creds: sdk.Credentials{Username: "dave", Password: []byte("")}},
		{name: "empty password is rejected", creds: sdk.Credentials{Username: "alice"}},
		{name: "another user's password is rejected", creds: sdk.Credentials{Username: "bob", Password: []byte("alice-pw")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Authenticate(t.Context(), &tt.creds)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Authenticate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// An empty password is refused even when the user's hash is of the empty
// string, after the same one hash check as any refusal (found by review:
// credentials without a password from another domain's authenticator were
// checked against the hash).
func TestInternal_EmptyPasswordIsRefusedEvenIfItMatches(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configure(t, map[string]any{"users": []any{map[string]any{"name": "svc", "hash": string(h)}}})
	b, _ := newBackend(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	db := b.(*backend).db
	before := db.verifications.Load()
	if u, err := b.Authenticate(t.Context(), &sdk.Credentials{Username: "svc"}); u != nil || err != nil {
		t.Fatalf("empty password: %+v, %v; want a rejection", u, err)
	}
	if n := db.verifications.Load() - before; n != 1 {
		t.Errorf("%d hash verifications, want exactly 1", n)
	}
}

func TestInternal_UnknownUserCostsOneHash(t *testing.T) {
	b := newTestBackend(t)
	tests := []struct {
		name  string
		creds sdk.Credentials
	}{
		{name: "right password", creds: sdk.Credentials{Username: "alice", Password: []byte("alice-pw")}},
		{name: "wrong password", creds: sdk.Credentials{Username: "alice", Password: []byte("nope")}},
		{name: "unknown user", creds: sdk.Credentials{Username: "mallory", Password: []byte("nope")}},
		{name: "user without a hash", creds: sdk.Credentials{Username: "dave", Password: []byte("nope")}},
		{name: "empty user name", creds: sdk.Credentials{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.db.verifications.Load()
			if _, err := b.Authenticate(t.Context(), &tt.creds); err != nil {
				t.Fatal(err)
			}
			if n := b.db.verifications.Load() - before; n != 1 {
				t.Errorf("%d hash verifications, want exactly 1", n)
			}
		})
	}
}

func TestInternal_DummyHashMatchesTheFirstHashedUser(t *testing.T) {
	pbkdf2Hash := mustHash(t, "x", PBKDF2)
	tests := []struct {
		name  string
		users []any
		check func(t *testing.T, dummy verifier)
	}{
		{name: "first user with a hash sets algorithm and parameters",
			users: []any{map[string]any{"name": "nohash"}, map[string]any{"name": "p", "hash": pbkdf2Hash}, map[string]any{"name": "b", "hash": mustHash(t, "y", BCrypt)}},
			check: func(t *testing.T, dummy verifier) {
				v, ok := dummy.(*pbkdf2Verifier)
				if !ok || v.iterations != 1000 || v.fn.name != "SHA256" || len(v.key) != 32 {
					t.Errorf("dummy = %T %+v, want PBKDF2 SHA256, 1000 iterations, 32 bytes", dummy, dummy)
				}
			}},
		{name: "no hashed user means bcrypt cost 12",
			users: []any{map[string]any{"name": "nohash"}},
			check: func(t *testing.T, dummy verifier) {
				v, ok := dummy.(bcryptVerifier)
				if !ok {
					t.Fatalf("dummy = %T, want bcrypt", dummy)
				}
				if cost, err := bcrypt.Cost(v); err != nil || cost != 12 {
					t.Errorf("dummy cost = %d, %v; want 12", cost, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configure(t, map[string]any{"users": tt.users})
			db := newDatabase(cfg)
			if err := cfg.Err(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, db.dummy)
		})
	}
}

func TestInternal_ExpiredContextIsUnavailable(t *testing.T) {
	b := newTestBackend(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u, err := b.Authenticate(ctx, &sdk.Credentials{Username: "alice", Password: []byte("alice-pw")})
	if u != nil || !errors.Is(err, sdk.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate = %v, %v; want an error wrapping sdk.ErrUnavailable and the context's", u, err)
	}
}

func TestInternal_Authorize(t *testing.T) {
	cfg := configure(t, map[string]any{"users": testUsers(t)})
	a, _ := newAuthorizer(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		user string
		want *sdk.Grant
	}{
		{name: "known user gets roles and attributes", user: "alice", want: &sdk.Grant{
			BackendRoles: []string{"admin", "ops"}, SecurityRoles: []string{"all_access"},
			Attributes: map[string]string{"attr.internal.dept": "eng", "attr.internal.level": "3", "attr.internal.remote": "true"},
			CacheTTL:   sdk.CacheForever}},
		{name: "user without a hash still exists for authorization", user: "dave", want: &sdk.Grant{BackendRoles: []string{"nologin"}, CacheTTL: sdk.CacheForever}},
		{name: "unknown user gets an empty grant", user: "mallory", want: &sdk.Grant{CacheTTL: sdk.CacheForever}},
		{name: "names are case-sensitive", user: "ALICE", want: &sdk.Grant{CacheTTL: sdk.CacheForever}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authorize(t.Context(), &sdk.User{Name: tt.user})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Authorize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadConfig_Problems(t *testing.T) {
	const secretHash = "$2a$12$tooshortbutsecret"
	tests := []struct {
		name   string
		config map[string]any
		keys   []string
		in     string // in the first problem's message
	}{
		{name: "empty config is fine", config: map[string]any{}},
		{name: "unknown key", config: map[string]any{"colour": "blue"}, keys: []string{"colour"}},
		// A string of no known format is a user who cannot log in (a
		// warning in realmd check), not a refused config.
		{name: "unrecognised hash is no problem",
			config: map[string]any{"users": []any{map[string]any{"name": "ann", "hash": secretHash}}}},
		{name: "a bcrypt hash with bad parameters names the user, not the hash",
			config: map[string]any{"users": []any{map[string]any{"name": "ann", "hash": "$2a$03$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"}}},
			keys:   []string{"users[0].hash"}, in: `user "ann"`},
		{name: "argon2d hash", config: map[string]any{"users": []any{map[string]any{"name": "ann",
			"hash": "$argon2d$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$Kd/lnpB1yuLHOY3qaqb1+T05DtEJFqS1U6tuJZWo8dg"}}}, keys: []string{"users[0].hash"}, in: "argon2d"},
		{name: "user without a name", config: map[string]any{"users": []any{map[string]any{"hash": ""}}}, keys: []string{"users[0].name"}},
		{name: "user listed twice", config: map[string]any{"users": []any{map[string]any{"name": "a"}, map[string]any{"name": "a"}}}, keys: []string{"users[1].name"}},
		{name: "unknown user field", config: map[string]any{"users": []any{map[string]any{"name": "a", "hidden": true}}}, keys: []string{"users[0]"}},
		{name: "attribute that is a list", config: map[string]any{"users": []any{map[string]any{"name": "a", "attributes": map[string]any{"k": []any{"x"}}}}},
			keys: []string{"users[0].attributes.k"}},
		{name: "users not a list", config: map[string]any{"users": "alice"}, keys: []string{"users"}},
		{name: "bad hashing settings", config: map[string]any{"password_hashing": map[string]any{
			"algorithm": "md5", "bcrypt": map[string]any{"rounds": 0, "minor": "Z"}, "pbkdf2": map[string]any{"function": "MD5", "length": 12},
			"argon2": map[string]any{"type": "argon2d", "version": 16, "memory": "lots"}}},
			keys: []string{"password_hashing.algorithm", "password_hashing.argon2.memory", "password_hashing.argon2.type", "password_hashing.argon2.version",
				"password_hashing.bcrypt.minor", "password_hashing.bcrypt.rounds", "password_hashing.pbkdf2.function", "password_hashing.pbkdf2.length"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configure(t, tt.config)
			ReadConfig(cfg)
			ps := cfg.Problems()
			var keys []string
			for _, p := range ps {
				if strings.Contains(p.Message, "tooshortbutsecret") {
					t.Errorf("problem %q shows the hash", p)
				}
				if len(keys) == 0 || keys[len(keys)-1] != p.Key {
					keys = append(keys, p.Key)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("problems at %q, want at %q: %v", keys, tt.keys, ps)
			}
			if tt.in != "" && (len(ps) == 0 || !strings.Contains(ps[0].Message, tt.in)) {
				t.Errorf("problems %v, want the first to mention %q", ps, tt.in)
			}
		})
	}
}

func TestReadConfig_DefaultsAndUsers(t *testing.T) {
	cfg := configure(t, map[string]any{"users": []any{map[string]any{"name": "a", "attributes": map[string]any{"n": 1.5, "none": nil}}}})
	c := ReadConfig(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	if c.PasswordHashing != DefaultHashOptions() {
		t.Errorf("PasswordHashing = %+v, want the defaults", c.PasswordHashing)
	}
	want := []User{{Name: "a", Attributes: map[string]string{"n": "1.5"}}}
	if !reflect.DeepEqual(c.Users, want) {
		t.Errorf("Users = %+v, want %+v", c.Users, want)
	}
}

// A hash of no known format is a warning about the user's hash, returned
// to realmd with the answer; the plugin does not log it, or every pass of
// the factory would log it again.
func TestReadConfig_UnrecognisedHashIsAWarningNotALogLine(t *testing.T) {
	var logs bytes.Buffer
	raw, err := json.Marshal(map[string]any{"users": []any{
		map[string]any{"name": "ann", "hash": mustHash(t, "ann-pw", BCrypt)},
		map[string]any{"name": "bob", "hash": "$2a$12$tooshortbutsecret"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sdk.NewConfig(raw, "", hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace}))
	if err != nil {
		t.Fatal(err)
	}
	ReadConfig(cfg)
	if ps := cfg.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := []sdk.Problem{{Key: "users[1].hash", Message: "user \"bob\" can never log in with a password: the hash is not a bcrypt, PBKDF2 or Argon2 hash realmd can verify; make one with `realmd hash`"}}
	if got := cfg.Warnings(); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if logs.Len() > 0 {
		t.Errorf("the factory logged:\n%s", logs.String())
	}
}
