package config

import (
	"reflect"
	"testing"
)

// A null in an internal user is what OpenSearch makes of it. Jackson
// (FAIL_ON_NULL_FOR_PRIMITIVES off) gives the booleans false, which realmd
// ignores. A null hash, list or map is set as null at first, but every
// configuration OpenSearch uses has been through deepClone, which writes
// it with DefaultObjectMapper's NON_NULL inclusion (values and map
// contents) and reads it back: the null is gone, and the field keeps
// InternalUserV7's default. So a null backend_roles,
// opendistro_security_roles or attributes (v1: roles) is empty, a null
// attribute value is left out (OpenSearch's own test user custattr has
// c5: null and logs in), and a null hash is no hash: the user cannot log in
// with a password (OpenSearch's hashers throw on a null hash). realmd
// reads all of them so, without a word.
func TestLoad_NullInAnInternalUserIsWhatOpenSearchMakesOfIt(t *testing.T) {
	const v2 = "_meta: {type: internalusers, config_version: 2}\nadmin: {hash: x}\nbob:\n"
	const v1 = "admin: {hash: x}\nbob:\n"
	legacy := "internal_users.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; " +
		"consider converting it and adding _meta: {type: internalusers, config_version: 2}"
	tests := []struct {
		name string
		file string
		want []string
		bob  InternalUser
	}{
		{name: "null hash is no hash", file: v2 + "  hash: ~\n  backend_roles: [b]\n", bob: InternalUser{BackendRoles: []string{"b"}}},
		{name: "empty hash is no hash", file: v2 + "  hash:\n  backend_roles: [b]\n", bob: InternalUser{BackendRoles: []string{"b"}}},
		{name: "null booleans are false", file: v2 + "  hash: y\n  reserved: ~\n  hidden: ~\n  static: ~\n  enabled: ~\n  service:\n", bob: InternalUser{Hash: "y"}},
		{name: "null description is none", file: v2 + "  hash: y\n  description: ~\n", bob: InternalUser{Hash: "y"}},
		{name: "null backend_roles is empty", file: v2 + "  hash: y\n  backend_roles: ~\n", bob: InternalUser{Hash: "y"}},
		{name: "empty backend_roles is empty", file: v2 + "  hash: y\n  backend_roles:\n  description: d\n", bob: InternalUser{Hash: "y", Description: "d"}},
		{name: "null opendistro_security_roles is empty", file: v2 + "  hash: y\n  opendistro_security_roles: null\n", bob: InternalUser{Hash: "y"}},
		{name: "null attributes is empty", file: v2 + "  hash: y\n  attributes: ~\n", bob: InternalUser{Hash: "y"}},
		{name: "null attribute value is left out", file: v2 + "  hash: y\n  attributes: {dept: ~, site: x}\n",
			bob: InternalUser{Hash: "y", Attributes: map[string]string{"site": "x"}}},
		{name: "every list and map null", file: v2 + "  hash: y\n  backend_roles: ~\n  opendistro_security_roles: ~\n  attributes: ~\n", bob: InternalUser{Hash: "y"}},
		{name: "legacy null roles is empty", file: v1 + "  hash: y\n  roles: ~\n", want: []string{legacy}, bob: InternalUser{Hash: "y"}},
		{name: "legacy null attributes is empty", file: v1 + "  hash: y\n  attributes: ~\n", want: []string{legacy}, bob: InternalUser{Hash: "y"}},
		{name: "legacy null hash and booleans", file: v1 + "  hash: ~\n  readonly: ~\n  hidden: ~\n  roles: [b]\n",
			want: []string{legacy}, bob: InternalUser{BackendRoles: []string{"b"}}},
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
			if !reflect.DeepEqual(names, []string{"admin", "bob"}) {
				t.Errorf("users = %v, want admin and bob", names)
			}
		})
	}
}

// A null element in opendistro_security_roles is dropped, as OpenSearch
// drops it: InternalUsersModelV7.getSecurityRoles keeps only the names
// that exist in roles.yml, and its HashMap holds no null key. realmd says
// so, naming the user and the line, since a stray "- " in a list looks
// like a role that is not there.
func TestLoad_NullSecurityRoleIsDroppedWithAWarning(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{
		InternalUsersFile: "_meta: {type: internalusers, config_version: 2}\nadmin: {hash: x}\nbob:\n  hash: y\n  opendistro_security_roles:\n    - all_access\n    -\n    - ~\n",
		RolesFile:         "_meta: {type: roles, config_version: 2}\n",
	}), nil)
	assertProblems(t, s, ps,
		"internal_users.yml:7: warning: bob.opendistro_security_roles[1]: empty list element, so it names no role and is ignored, as OpenSearch ignores it; remove it or give it a role name",
		"internal_users.yml:8: warning: bob.opendistro_security_roles[2]: empty list element, so it names no role and is ignored, as OpenSearch ignores it; remove it or give it a role name")
	if s == nil {
		t.FailNow()
	}
	for _, u := range s.Users {
		if u.Name == "bob" && !reflect.DeepEqual(u.SecurityRoles, []string{"all_access"}) {
			t.Errorf("bob's security roles = %q, want [all_access]", u.SecurityRoles)
		}
	}
}
