package config

import (
	"gopkg.in/yaml.v3"
)

// Keys of the other format, with what to write instead.
var (
	v2UserHints = hints{
		"roles":    "roles is the legacy v1 key; in the v2 format write backend_roles",
		"readonly": "readonly is the legacy v1 key; in the v2 format write reserved",
		"username": "the user name is the key of the entry; remove username",
		"password": "a plain password is never read; put a hash made with `realmd hash` in hash",
	}
	v1UserHints = legacyHints("internalusers",
		"backend_roles", "opendistro_security_roles", "reserved", "static", "enabled", "service", "description")
)

// legacyHints explains v2-only keys found in a legacy v1 file.
func legacyHints(metaType string, v2Keys ...string) hints {
	h := hints{}
	for _, k := range v2Keys {
		h[k] = "it exists only in the v2 format; this file has no _meta, so it is read as legacy v1; " +
			"add _meta: {type: " + metaType + ", config_version: 2} to use the v2 keys"
	}
	return h
}

// parseUsers reads internal_users.yml. roles are the known role names
// (Settings.Roles): opendistro_security_roles naming another role are
// warned about.
func parseUsers(f *file, root *yaml.Node, roles map[string]bool) []InternalUser {
	return parseEntries(f, root, "internalusers", func(k, v *yaml.Node, path string, legacy bool) InternalUser {
		return f.user(k, v, path, legacy, roles)
	})
}

// parseEntries reads a file of named entries (internal_users.yml,
// roles_mapping.yml): it requires content, detects the legacy v1 form by
// the missing _meta, checks _meta, and parses every other key with entry.
func parseEntries[T any](f *file, root *yaml.Node, metaType string, entry func(k, v *yaml.Node, path string, legacy bool) T) []T {
	if root == nil {
		f.errorf(0, "", "the file is empty; it needs at least _meta: {type: %s, config_version: 2}", metaType)
		return nil
	}
	legacy := !hasKey(root, "_meta")
	if legacy && root.Kind == yaml.MappingNode {
		f.legacyWarning(metaType)
	}
	var out []T
	f.pairs(root, "", func(k, v *yaml.Node, path string) {
		if k.Value == "_meta" && !legacy {
			f.meta(v, path, metaType)
			return
		}
		out = append(out, entry(k, v, path, legacy))
	})
	return out
}

func (f *file) user(k, v *yaml.Node, path string, legacy bool, roles map[string]bool) InternalUser {
	u := InternalUser{Name: k.Value, Pos: Pos{File: f.name, Line: k.Line}}
	if isNull(v) {
		f.warnf(k.Line, path, "has no settings, so the user has no hash and can never log in with a password (check the indentation)")
		return u
	}
	// Whether realmd can verify the hash is the basic plugin's to say: it
	// parses it, and warns (or refuses bad parameters) in its Configure.
	hash := func(_, v *yaml.Node, path string) { u.Hash, _ = f.str(v, path); u.HashLine = v.Line }
	backendRoles := func(_, v *yaml.Node, path string) { u.BackendRoles = values(f.list(v, path)) }
	attributes := func(_, v *yaml.Node, path string) { u.Attributes = f.attributes(v, path) }
	if legacy {
		f.object(v, path, fields{
			"hash":       hash,
			"readonly":   f.ignoreBool,
			"hidden":     f.ignoreBool,
			"roles":      backendRoles,
			"attributes": attributes,
			"username":   f.ignoreString,
			"password": func(_, v *yaml.Node, path string) {
				if s, ok := f.str(v, path); ok && s != "" {
					f.warnf(v.Line, path, "ignored, as OpenSearch ignores it: a plain password is never read; put a hash made with `realmd hash` in hash")
				}
			},
		}, v1UserHints)
		return u
	}
	f.object(v, path, fields{
		"hash":          hash,
		"reserved":      f.ignoreBool,
		"hidden":        f.ignoreBool,
		"static":        f.ignoreBool,
		"enabled":       f.ignoreBool,
		"service":       f.ignoreBool,
		"backend_roles": backendRoles,
		"opendistro_security_roles": func(_, v *yaml.Node, path string) {
			// A null element is kept by Jackson and dropped by
			// InternalUsersModelV7.getSecurityRoles, which keeps only
			// the names roles.yml holds: realmd drops it too, and says so.
			var items []item
			for _, it := range f.nullableList(v, path) {
				if it.null {
					f.warnf(it.line, it.path, "empty list element, so it names no role and is ignored, as OpenSearch ignores it; remove it or give it a role name")
					continue
				}
				items = append(items, it)
			}
			u.SecurityRoles = values(items)
			for _, it := range items {
				// OpenSearch drops such a role without a word; a typo
				// would silently cost the user the role.
				if roles != nil && !roles[it.value] {
					f.warnf(it.line, it.path, "role %q is neither in %s nor one of OpenSearch's static roles, so it is ignored, as OpenSearch ignores it", it.value, RolesFile)
				}
			}
		},
		"attributes":  attributes,
		"description": func(_, v *yaml.Node, path string) { u.Description, _ = f.str(v, path) },
	}, v2UserHints)
	return u
}

// attributes reads a map of strings. Scalars are converted to strings; a
// null value is left out; a nested mapping or a list is an error, as in
// OpenSearch.
func (f *file) attributes(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	f.pairs(n, path, func(k, v *yaml.Node, path string) {
		switch {
		case isNull(v):
		case v.Kind != yaml.ScalarNode:
			f.errorf(v.Line, path, "must be a string, not %s: attributes are a flat map of strings; write the value as one string", describe(v))
		default:
			out[k.Value] = v.Value
		}
	})
	if len(out) == 0 {
		return nil
	}
	return out
}
