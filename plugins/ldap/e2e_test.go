package ldap

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/e2e"
	"github.com/realmd/realmd/internal/testenv/slapd"
)

// TestE2E_BasicWithLDAPBackendAndAuthz runs the built realmd binary with a
// basic authenticator, the LDAP authentication backend and an LDAP authz
// domain against slapd, and maps the LDAP groups with roles_mapping.yml.
func TestE2E_BasicWithLDAPBackendAndAuthz(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	s := startDirectory(t)
	dir := e2eConfig(t, s)
	d := e2e.Start(t, dir)

	type authinfo struct {
		UserName     string   `json:"user_name"`
		BackendRoles []string `json:"backend_roles"`
		Roles        []string `json:"roles"`
	}
	get := func(t *testing.T, user, password string) (int, authinfo, string) {
		t.Helper()
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
		code, _, body := d.Do(t, "GET", "/_plugins/_security/authinfo", h)
		var info authinfo
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &info); err != nil {
				t.Fatalf("%v in %q", err, body)
			}
		}
		return code, info, body
	}

	t.Run("LDAP groups become backend roles and are mapped", func(t *testing.T) {
		tests := []struct {
			user, password  string
			backend, mapped []string
		}{
			{"jacksonm", "secret", []string{"ceo", "role2"}, []string{"executive"}},
			{"spock", "spocksecret", []string{"ceo", "nested1", "nested2", "role2"}, []string{"executive", "nested_reader"}},
		}
		for _, tt := range tests {
			code, info, body := get(t, tt.user, tt.password)
			slices.Sort(info.Roles)
			if code != http.StatusOK || info.UserName != tt.user || !slices.Equal(info.BackendRoles, tt.backend) || !slices.Equal(info.Roles, tt.mapped) {
				t.Errorf("%s: status %d, %+v (%s)\nlog:\n%s", tt.user, code, info, body, d.Log())
			}
		}
	})

	t.Run("wrong credentials get 401", func(t *testing.T) {
		for _, c := range [][2]string{{"jacksonm", "wrong"}, {"nobody", "secret"}, {"*)(uid=*", "secret"}, {"jacksonm", ""}} {
			if code, _, body := get(t, c[0], c[1]); code != http.StatusUnauthorized {
				t.Errorf("%q: status %d, body %q", c[0], code, body)
			}
		}
	})

	t.Run("directory down gives 503, back up gives 200 without reload", func(t *testing.T) {
		s.Stop()
		// ssign has not logged in yet, so no cached identity answers for it.
		code, _, body := get(t, "ssign", "ssignsecret")
		if code != http.StatusServiceUnavailable {
			t.Errorf("directory down: status %d, body %q, want 503", code, body)
		}
		s.Start()
		code, info, body := get(t, "ssign", "ssignsecret")
		if code != http.StatusOK || !slices.Contains(info.BackendRoles, "ceo") {
			t.Errorf("directory back: status %d, %+v (%s)\nlog:\n%s", code, info, body, d.Log())
		}
	})
}

// e2eConfig writes an OpenSearch config directory for s.
func e2eConfig(t *testing.T, s *slapd.Server) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	conn := strings.NewReplacer("PORT", strconv.Itoa(s.LDAPPort)).Replace(`
            hosts: ["localhost:PORT"]
            enable_start_tls: true
            pemtrustedcas_filepath: ldap-ca.pem
            pool:
              enabled: true
            userbase: "ou=people,o=TEST"
            usersearch: "(uid={0})"`)
	files := map[string]string{
		"ldap-ca.pem": string(ca),
		"config.yml": `_meta:
  type: "config"
  config_version: 2
config:
  dynamic:
    authc:
      ldap:
        http_enabled: true
        order: 1
        http_authenticator:
          type: basic
          challenge: true
        authentication_backend:
          type: ldap
          config:` + conn + `
            username_attribute: uid
    authz:
      roles_from_ldap:
        http_enabled: true
        authorization_backend:
          type: ldap
          config:` + conn + `
            rolebase: "ou=groups,o=TEST"
            rolesearch: "(uniqueMember={0})"
            userrolename: disabled
            rolename: cn
            resolve_nested_roles: true
`,
		"internal_users.yml": "_meta:\n  type: \"internalusers\"\n  config_version: 2\n",
		"roles.yml": `_meta:
  type: "roles"
  config_version: 2
executive:
  reserved: false
nested_reader:
  reserved: false
`,
		"roles_mapping.yml": `_meta:
  type: "rolesmapping"
  config_version: 2
executive:
  backend_roles: ["ceo"]
nested_reader:
  backend_roles: ["nested1"]
`,
	}
	e2e.WriteFiles(t, dir, files)
	return dir
}
