package config

import (
	"fmt"
	"testing"
)

// A null list in a role mapping is an empty list to OpenSearch. Jackson
// does call setUsers(null) (setBackend_roles, setHosts,
// setAnd_backend_roles alike) when it first reads the file, but every
// configuration OpenSearch uses has been through deepClone
// (ConfigurationLoaderSecurity7 and ConfigurationRepository.getConfiguration),
// which writes it with DefaultObjectMapper's NON_NULL inclusion and reads it
// back: the null key is gone and the field keeps its default,
// Collections.emptyList(). So ConfigurableRoleMapper never sees the null,
// and realmd reads it as an empty list, without a word. A null element is
// another matter (TestLoad_NullMappingPatternIsAWarning).
func TestLoad_NullMappingListIsEmpty(t *testing.T) {
	const v2 = "_meta: {type: rolesmapping, config_version: 2}\nall_access:\n  users: [alice]\nreadall:\n"
	tests := []struct {
		name, file string
		legacy     bool
	}{
		{name: "~", file: v2 + "  users: ~\n  backend_roles: ~\n  hosts: ~\n  and_backend_roles: ~\n"},
		{name: "null", file: v2 + "  users: null\n  backend_roles: null\n  hosts: null\n  and_backend_roles: null\n"},
		{name: "nothing after the key", file: v2 + "  users:\n  backend_roles:\n  hosts:\n  and_backend_roles:\n"},
		{name: "[]", file: v2 + "  users: []\n  backend_roles: []\n  hosts: []\n  and_backend_roles: []\n"},
		{name: "legacy v1", file: "all_access:\n  users: [alice]\nreadall:\n  users: ~\n  backendroles: ~\n  hosts:\n  and_backendroles: ~\n", legacy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: tt.file}), nil)
			var want []string
			if tt.legacy {
				want = []string{"roles_mapping.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; " +
					"consider converting it and adding _meta: {type: rolesmapping, config_version: 2}"}
			}
			assertProblems(t, s, ps, want...)
			if s == nil {
				t.FailNow()
			}
			if len(s.RoleMappings) != 2 {
				t.Fatalf("%d mappings, want 2", len(s.RoleMappings))
			}
			m := s.RoleMappings[1]
			if got := fmt.Sprintf("%s %v %v %v %v", m.Role, m.Users, m.BackendRoles, m.Hosts, m.AndBackendRoles); got != "readall [] [] [] []" {
				t.Errorf("mapping = %s, want readall with no patterns", got)
			}
		})
	}
}
