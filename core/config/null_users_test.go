package config

import (
	"fmt"
	"reflect"
	"testing"
)

// A null in an internal user is what OpenSearch makes of it. Jackson
// (FAIL_ON_NULL_FOR_PRIMITIVES off) gives the booleans false, which realmd
// ignores anyway, and leaves hash and description null: no hash is a user
// who cannot log in with a password, in realmd too. A null list or map
// (backend_roles, opendistro_security_roles, attributes; v1 roles) makes
// InternalUsersModelV7 throw on every use of the user, so OpenSearch never
// logs them in and gives them no roles: realmd warns and drops the user.
func TestLoad_NullInAnInternalUserIsWhatOpenSearchMakesOfIt(t *testing.T) {
	dropped := "null, which OpenSearch does not read as empty: it fails on the user (a NullPointerException), " +
		"so the user never logs in, even with the right password, and gets no roles from the internal backend; " +
		"realmd drops the user too. Write %s, or remove the key"
	list, mapping := fmt.Sprintf(dropped, "[]"), fmt.Sprintf(dropped, "{}")
	const v2 = "_meta: {type: internalusers, config_version: 2}\nadmin: {hash: x}\nbob:\n"
	const v1 = "admin: {hash: x}\nbob:\n"
	legacy := "internal_users.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; " +
		"consider converting it and adding _meta: {type: internalusers, config_version: 2}"
	tests := []struct {
		name  string
		file  string
		want  []string
		users []string // user names loaded
		bob   InternalUser
	}{
		{name: "null hash is no hash", file: v2 + "  hash: ~\n  backend_roles: [b]\n",
			users: []string{"admin", "bob"}, bob: InternalUser{BackendRoles: []string{"b"}}},
		{name: "empty hash is no hash", file: v2 + "  hash:\n  backend_roles: [b]\n",
			users: []string{"admin", "bob"}, bob: InternalUser{BackendRoles: []string{"b"}}},
		{name: "null booleans are false", file: v2 + "  hash: y\n  reserved: ~\n  hidden: ~\n  static: ~\n  enabled: ~\n  service:\n",
			users: []string{"admin", "bob"}, bob: InternalUser{Hash: "y"}},
		{name: "null description is none", file: v2 + "  hash: y\n  description: ~\n",
			users: []string{"admin", "bob"}, bob: InternalUser{Hash: "y"}},
		{name: "null backend_roles drops the user", file: v2 + "  hash: y\n  backend_roles: ~\n",
			want: []string{"internal_users.yml:5: warning: bob.backend_roles: " + list}, users: []string{"admin"}},
		{name: "empty backend_roles drops the user", file: v2 + "  hash: y\n  backend_roles:\n  description: d\n",
			want: []string{"internal_users.yml:5: warning: bob.backend_roles: " + list}, users: []string{"admin"}},
		{name: "null opendistro_security_roles drops the user", file: v2 + "  hash: y\n  opendistro_security_roles: null\n",
			want: []string{"internal_users.yml:5: warning: bob.opendistro_security_roles: " + list}, users: []string{"admin"}},
		{name: "null attributes drops the user", file: v2 + "  hash: y\n  attributes: ~\n",
			want: []string{"internal_users.yml:5: warning: bob.attributes: " + mapping}, users: []string{"admin"}},
		{name: "each null is reported", file: v2 + "  backend_roles: ~\n  attributes: ~\n",
			want:  []string{"internal_users.yml:4: warning: bob.backend_roles: " + list, "internal_users.yml:5: warning: bob.attributes: " + mapping},
			users: []string{"admin"}},
		{name: "empty lists and map are empty", file: v2 + "  hash: y\n  backend_roles: []\n  opendistro_security_roles: []\n  attributes: {}\n",
			users: []string{"admin", "bob"}, bob: InternalUser{Hash: "y"}},
		{name: "legacy null roles drops the user", file: v1 + "  hash: y\n  roles: ~\n",
			want: []string{legacy, "internal_users.yml:4: warning: bob.roles: " + list}, users: []string{"admin"}},
		{name: "legacy null attributes drops the user", file: v1 + "  hash: y\n  attributes: ~\n",
			want: []string{legacy, "internal_users.yml:4: warning: bob.attributes: " + mapping}, users: []string{"admin"}},
		{name: "legacy null hash and booleans", file: v1 + "  hash: ~\n  readonly: ~\n  hidden: ~\n  roles: [b]\n",
			want: []string{legacy}, users: []string{"admin", "bob"}, bob: InternalUser{BackendRoles: []string{"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: tt.file}), nil)
			assertProblems(t, s, ps, tt.want...)
			if s == nil {
				t.FailNow()
			}
			var names []string
			for _, u := range s.Users {
				names = append(names, u.Name)
				if u.Name == "bob" {
					got := InternalUser{Hash: u.Hash, BackendRoles: u.BackendRoles, SecurityRoles: u.SecurityRoles, Attributes: u.Attributes, Description: u.Description}
					if !reflect.DeepEqual(got, tt.bob) {
						t.Errorf("bob = %+v, want %+v", got, tt.bob)
					}
				}
			}
			if !reflect.DeepEqual(names, tt.users) {
				t.Errorf("users = %v, want %v", names, tt.users)
			}
		})
	}
}
