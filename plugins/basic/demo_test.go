package basic

import (
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// loadUsers reads an internal_users.yml into the users list realmd passes in
// the instance config, in file order.
func loadUsers(t *testing.T, file string) []any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	var users []any
	for i := 0; i+1 < len(root.Content); i += 2 {
		name := root.Content[i].Value
		if name == "_meta" {
			continue
		}
		var u struct {
			Hash          string            `yaml:"hash"`
			BackendRoles  []string          `yaml:"backend_roles"`
			SecurityRoles []string          `yaml:"opendistro_security_roles"`
			Attributes    map[string]string `yaml:"attributes"`
		}
		if err := root.Content[i+1].Decode(&u); err != nil {
			t.Fatal(err)
		}
		users = append(users, map[string]any{"name": name, "hash": u.Hash, "backend_roles": u.BackendRoles,
			"security_roles": u.SecurityRoles, "attributes": u.Attributes})
	}
	return users
}

// TestInternal_DemoUsersPasswordIsTheirName logs in every demo user of
// OpenSearch's config/internal_users.yml with its name as password.
func TestInternal_DemoUsersPasswordIsTheirName(t *testing.T) {
	users := loadUsers(t, "testdata/internal_users.yml")
	cfg := configure(t, map[string]any{"users": users})
	b, _ := newBackend(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]*sdk.User{
		"admin":        {BackendRoles: []string{"admin"}},
		"anomalyadmin": {SecurityRoles: []string{"anomaly_full_access"}},
		"kibanaserver": {},
		"kibanaro": {BackendRoles: []string{"kibanauser", "readall"}, Attributes: map[string]string{
			"attr.internal.attribute1": "value1", "attr.internal.attribute2": "value2", "attr.internal.attribute3": "value3"}},
		"logstash":        {BackendRoles: []string{"logstash"}},
		"readall":         {BackendRoles: []string{"readall"}},
		"snapshotrestore": {BackendRoles: []string{"snapshotrestore"}},
	}
	if len(users) != len(want) {
		t.Fatalf("%d demo users, want %d", len(users), len(want))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := b.Authenticate(t.Context(), &sdk.Credentials{Username: name, Password: []byte(name)})
			if err != nil {
				t.Fatal(err)
			}
			w.Name, w.LoginName, w.CacheTTL = name, name, sdk.CacheForever
			if !reflect.DeepEqual(got, w) {
				t.Errorf("Authenticate = %+v, want %+v", got, w)
			}
		})
	}
}

// TestHash_OpenSearchVectorsVerify checks the PBKDF2 and Argon2 hashes of
// OpenSearch's test resources, made by password4j.
func TestHash_OpenSearchVectorsVerify(t *testing.T) {
	passwords := map[string]map[string]string{
		"testdata/internal_users_pbkdf2.yml": {"admin": "admin", "user1": "user1", "user2": "user2", "user3": "user3", "user4": "user4", "user5": "user5"},
		"testdata/internal_users_argon2.yml": {"admin": "admin", "user1": ""}, // user1's password is unknown: parse only
	}
	for file, pw := range passwords {
		for _, u := range loadUsers(t, file) {
			u := u.(map[string]any)
			name, hash := u["name"].(string), u["hash"].(string)
			t.Run(file+"/"+name, func(t *testing.T) {
				t.Parallel()
				v, err := parseHash(hash)
				if err != nil {
					t.Fatalf("parseHash: %v", err)
				}
				password, known := pw[name]
				if !known {
					t.Fatalf("no password listed for %s", name)
				}
				if password != "" && !v.verify([]byte(password)) {
					t.Errorf("%s does not verify with %q", name, password)
				}
				// A wrong password once per format is enough; these hashes are slow.
				if (name == "user1" || file == "testdata/internal_users_argon2.yml" && name == "admin") && v.verify([]byte(name+"x")) {
					t.Errorf("%s verifies a wrong password", name)
				}
			})
		}
	}
}
