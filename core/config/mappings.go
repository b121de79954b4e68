package config

import (
	"github.com/realmd/realmd/sdk/pattern"
	"gopkg.in/yaml.v3"
)

var (
	v2MappingHints = hints{
		"backendroles":     "backendroles is the legacy v1 key; in the v2 format write backend_roles",
		"and_backendroles": "and_backendroles is the legacy v1 key; in the v2 format write and_backend_roles",
		"readonly":         "readonly is the legacy v1 key; in the v2 format write reserved",
	}
	v1MappingHints = legacyHints("rolesmapping", "backend_roles", "and_backend_roles", "reserved", "description")
)

// parseMappings reads roles_mapping.yml. Every pattern is compiled, so that
// a bad /regex/ is reported at its line.
func parseMappings(f *file, root *yaml.Node) []RoleMapping {
	return parseEntries(f, root, "rolesmapping", f.mapping)
}

func (f *file) mapping(k, v *yaml.Node, path string, legacy bool) RoleMapping {
	m := RoleMapping{Role: k.Value, Pos: Pos{File: f.name, Line: k.Line}}
	if isNull(v) {
		f.warnf(k.Line, path, "has no settings, so it maps nobody to the role (check the indentation)")
		return m
	}
	patterns := func(dst *[]string, and bool) func(_, v *yaml.Node, path string) {
		return func(_, v *yaml.Node, path string) { *dst = f.patterns(v, path, and) }
	}
	fs := fields{
		"users":  patterns(&m.Users, false),
		"hosts":  patterns(&m.Hosts, false),
		"hidden": func(_, v *yaml.Node, path string) { m.Hidden = f.boolean(v, path, false) },
	}
	h := v2MappingHints
	if legacy {
		fs["readonly"] = f.ignoreBool
		fs["backendroles"] = patterns(&m.BackendRoles, false)
		fs["and_backendroles"] = patterns(&m.AndBackendRoles, true)
		h = v1MappingHints
	} else {
		fs["reserved"] = f.ignoreBool
		fs["description"] = f.ignoreString
		fs["backend_roles"] = patterns(&m.BackendRoles, false)
		fs["and_backend_roles"] = patterns(&m.AndBackendRoles, true)
	}
	f.object(v, path, fs, h)
	return m
}

// patterns reads a list of patterns and compiles each one. A null element
// is a warning, not an error: Jackson keeps it and ConfigurableRoleMapper
// compiles it with WildcardMatcher.from(null), a matcher that matches
// nothing, so the rest of the entry still works. In users, backend_roles
// and hosts it is dropped, which matches the same; in and_backend_roles
// (and is set) it is kept as "", a pattern that matches nothing, because
// there it makes the whole list unsatisfiable.
func (f *file) patterns(n *yaml.Node, path string, and bool) []string {
	items := f.nullableList(n, path)
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch {
		case it.null && and:
			f.warnf(it.line, it.path, "null list element; OpenSearch keeps it as a pattern that matches no backend role, so this and_backend_roles list never grants the role, and neither does realmd; remove it or give it a value")
			out = append(out, "")
		case it.null:
			f.warnf(it.line, it.path, "null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value")
		default:
			if _, err := pattern.Compile(it.value); err != nil {
				f.errorf(it.line, it.path, "%v", err)
			}
			out = append(out, it.value)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// staticRoles are the roles OpenSearch builds in (static_roles.yml in the
// security plugin); they exist without being defined in roles.yml.
var staticRoles = []string{
	"all_access", "kibana_user", "own_index", "manage_snapshots", "kibana_server",
	"logstash", "readall_and_monitor", "readall",
}

// parseRoles collects the role names of roles.yml and checks its _meta,
// as the other files' is checked; the roles' content is not read. A file
// without _meta is the legacy v1 form, whose role names are read the same
// way. The static roles are always present.
func parseRoles(f *file, root *yaml.Node) map[string]bool {
	roles := make(map[string]bool, len(staticRoles))
	for _, r := range staticRoles {
		roles[r] = true
	}
	f.pairs(root, "", func(k, v *yaml.Node, path string) {
		if k.Value == "_meta" {
			f.meta(v, path, "roles")
			return
		}
		roles[k.Value] = true
	})
	return roles
}
