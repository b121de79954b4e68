package config

import (
	"fmt"
	"testing"
)

// A null list in a role mapping is not an empty list to OpenSearch:
// Jackson calls setUsers(null) (and setBackend_roles, setHosts,
// setAnd_backend_roles), and ConfigurableRoleMapper's CompiledConfiguration
// throws a NullPointerException iterating it, so no mapping of the file
// takes effect. realmd refuses it at its line. A null element is another
// matter (TestLoad_NullMappingPatternIsAWarning).
func TestLoad_NullMappingListIsAnError(t *testing.T) {
	msg := "null, which OpenSearch does not read as an empty list: it fails to compile roles_mapping.yml with it " +
		"(a NullPointerException), so no mapping in the file takes effect; write [] or remove the key"
	v2 := "_meta: {type: rolesmapping, config_version: 2}\nall_access:\n  users: [alice]\n"
	tests := []struct {
		name, file string
		want       string
	}{
		{name: "users ~", file: v2 + "readall:\n  users: ~\n", want: "roles_mapping.yml:5: readall.users: "},
		{name: "users with nothing after it", file: v2 + "readall:\n  users:\n  backend_roles: [x]\n", want: "roles_mapping.yml:5: readall.users: "},
		{name: "backend_roles null", file: v2 + "readall:\n  backend_roles: null\n", want: "roles_mapping.yml:5: readall.backend_roles: "},
		{name: "hosts ~", file: v2 + "readall: {hosts: ~}\n", want: "roles_mapping.yml:4: readall.hosts: "},
		{name: "and_backend_roles ~", file: v2 + "readall:\n  and_backend_roles: ~\n", want: "roles_mapping.yml:5: readall.and_backend_roles: "},
		{name: "legacy backendroles ~", file: "all_access:\n  backendroles: ~\n", want: "roles_mapping.yml:2: all_access.backendroles: "},
		{name: "legacy and_backendroles ~", file: "all_access:\n  and_backendroles: ~\n", want: "roles_mapping.yml:2: all_access.and_backendroles: "},
		{name: "legacy users ~", file: "all_access:\n  users: ~\n", want: "roles_mapping.yml:2: all_access.users: "},
	}
	legacy := "roles_mapping.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; " +
		"consider converting it and adding _meta: {type: rolesmapping, config_version: 2}"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: tt.file}), nil)
			want := []string{tt.want + msg}
			if tt.file[0] != '_' {
				want = append([]string{legacy}, want...)
			}
			assertProblems(t, s, ps, want...)
		})
	}
	// An empty list is what the message asks for: it loads, and maps nobody.
	s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: v2 + "readall: {users: [], backend_roles: [], hosts: [], and_backend_roles: []}\n"}), nil)
	assertProblems(t, s, ps)
	if s != nil {
		if got := fmt.Sprint(s.RoleMappings[1].Users, s.RoleMappings[1].BackendRoles, s.RoleMappings[1].Hosts, s.RoleMappings[1].AndBackendRoles); got != "[] [] [] []" {
			t.Errorf("readall = %s, want no patterns", got)
		}
	}
}

// A role mapping with no settings at all (`readall:` with nothing under it)
// is stored by Jackson's any-setter as null, and ConfigurableRoleMapper
// throws calling getUsers() on it: no mapping of the file takes effect.
func TestLoad_NullMappingEntryIsAnError(t *testing.T) {
	msg := "has no settings (check the indentation): OpenSearch stores the entry as null and fails to compile roles_mapping.yml with it " +
		"(a NullPointerException), so no mapping in the file takes effect; give it settings, such as users: [], or remove it"
	for _, tt := range []struct{ name, file, want string }{
		{name: "nothing under it", file: "_meta: {type: rolesmapping, config_version: 2}\nall_access:\n  users: [alice]\nreadall:\n", want: "roles_mapping.yml:4: readall: "},
		{name: "~", file: "_meta: {type: rolesmapping, config_version: 2}\nreadall: ~\n", want: "roles_mapping.yml:2: readall: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: tt.file}), nil)
			assertProblems(t, s, ps, tt.want+msg)
		})
	}
	// {} is a mapping with every list empty, as in OpenSearch: it loads.
	s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: "_meta: {type: rolesmapping, config_version: 2}\nreadall: {}\n"}), nil)
	assertProblems(t, s, ps)
}
