package config

import (
	"math"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// realmdSetting is one setting of realmd.yml, under its realmd key path,
// its OpenSearch node setting name, or both (the same setting: writing both
// is an error).
type realmdSetting struct {
	name string // realmd.yml key path; "" when only the node name exists
	node string // OpenSearch node setting; "" when none
	read func(p *realmdParser, v *yaml.Node, path string)
}

func (s *realmdSetting) id() string {
	if s.name != "" {
		return s.name
	}
	return s.node
}

const hashingNode = "plugins.security.password.hashing."

// realmdSettings is every realmd.yml setting except plugins and tls.
var realmdSettings = []*realmdSetting{
	{name: "listen", read: func(p *realmdParser, v *yaml.Node, path string) {
		if s, ok := p.f.str(v, path); ok {
			if err := validListen(s); err != nil {
				p.f.errorf(v.Line, path, "must be host:port, e.g. 127.0.0.1:9200: %v", err)
				return
			}
			p.r.Listen = s
		}
	}},
	{name: "plugin_directory", read: func(p *realmdParser, v *yaml.Node, path string) {
		p.dirLine = v.Line
		p.r.PluginDir, _ = p.f.str(v, path)
	}},
	{name: "cache.ttl_minutes", node: "plugins.security.cache.ttl_minutes", read: intSetting(0, maxInt32, func(r *Realmd, n int) {
		// Saturates, as Guava's expireAfterWrite does: past about 292
		// years of minutes the product overflowed and switched the cache off.
		r.CacheTTL = min(time.Duration(n), math.MaxInt64/time.Minute) * time.Minute
	})},
	{name: "roles_mapping_resolution", node: "plugins.security.roles_mapping_resolution", read: enumSetting(strings.ToUpper,
		" (OpenSearch logs an invalid value and falls back to MAPPING_ONLY; realmd refuses it)",
		func(r *Realmd, s string) { r.RolesMappingResolution = s }, "MAPPING_ONLY", "BACKENDROLES_ONLY", "BOTH")},
	{name: "headers.user", read: headerSetting(func(h *IdentityHeaders, s string) { h.User = s })},
	{name: "headers.roles", read: headerSetting(func(h *IdentityHeaders, s string) { h.Roles = s })},
	{name: "headers.backend_roles", read: headerSetting(func(h *IdentityHeaders, s string) { h.BackendRoles = s })},
	{name: "password_hashing.algorithm", node: hashingNode + "algorithm", read: enumSetting(strings.ToLower, "",
		func(r *Realmd, s string) { r.PasswordHashing.Algorithm = s }, "bcrypt", "pbkdf2", "argon2")},
	{name: "password_hashing.bcrypt.rounds", node: hashingNode + "bcrypt.rounds", read: intSetting(4, 31, func(r *Realmd, n int) {
		r.PasswordHashing.BcryptRounds = n
	})},
	{name: "password_hashing.bcrypt.minor", node: hashingNode + "bcrypt.minor", read: enumSetting(strings.ToUpper, "",
		func(r *Realmd, s string) { r.PasswordHashing.BcryptMinor = s }, "A", "B", "Y")},
	{name: "password_hashing.pbkdf2.function", node: hashingNode + "pbkdf2.function", read: enumSetting(strings.ToUpper, "",
		func(r *Realmd, s string) { r.PasswordHashing.PBKDF2Function = s }, "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")},
	{name: "password_hashing.pbkdf2.iterations", node: hashingNode + "pbkdf2.iterations", read: intSetting(1, maxInt32, func(r *Realmd, n int) {
		r.PasswordHashing.PBKDF2Iterations = n
	})},
	{name: "password_hashing.pbkdf2.length", node: hashingNode + "pbkdf2.length", read: intSetting(8, maxInt32, func(r *Realmd, n int) {
		r.PasswordHashing.PBKDF2Length = n
	})},
	{name: "password_hashing.argon2.memory", node: hashingNode + "argon2.memory", read: intSetting(8, maxInt32, func(r *Realmd, n int) {
		r.PasswordHashing.Argon2Memory = n
	})},
	{name: "password_hashing.argon2.iterations", node: hashingNode + "argon2.iterations", read: intSetting(1, maxInt32, func(r *Realmd, n int) {
		r.PasswordHashing.Argon2Iterations = n
	})},
	{name: "password_hashing.argon2.parallelism", node: hashingNode + "argon2.parallelism", read: intSetting(1, 255, func(r *Realmd, n int) {
		r.PasswordHashing.Argon2Parallelism = n
	})},
	{name: "password_hashing.argon2.length", node: hashingNode + "argon2.length", read: intSetting(4, maxInt32, func(r *Realmd, n int) {
		r.PasswordHashing.Argon2Length = n
	})},
	{name: "password_hashing.argon2.type", node: hashingNode + "argon2.type", read: enumSetting(strings.ToLower, "",
		func(r *Realmd, s string) { r.PasswordHashing.Argon2Type = s }, "argon2id", "argon2i", "argon2d")},
	{name: "password_hashing.argon2.version", node: hashingNode + "argon2.version", read: func(p *realmdParser, v *yaml.Node, path string) {
		n := p.f.integer(v, path, 19, minInt32, maxInt32)
		if n != 16 && n != 19 {
			p.f.errorf(v.Line, path, "must be 16 or 19 (0x10 or 0x13), not %d", n)
			return
		}
		p.r.PasswordHashing.Argon2Version = int(n)
	}},
	{name: "max_header_bytes", read: intSetting(1024, maxInt32, func(r *Realmd, n int) { r.MaxHeaderBytes = n })},
	{name: "queue_size", read: intSetting(1, 1<<20, func(r *Realmd, n int) { r.QueueSize = n })},
	{name: "request_timeout", read: func(p *realmdParser, v *yaml.Node, path string) {
		s, ok := p.f.str(v, path)
		if !ok {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			p.f.errorf(v.Line, path, "must be a positive duration such as 10s or 1m30s, not %s", describe(v))
			return
		}
		p.r.RequestTimeout = d
	}},
	{node: "plugins.security.compliance.disable_anonymous_authentication", read: func(p *realmdParser, v *yaml.Node, path string) {
		p.r.DisableAnonymous = p.f.boolean(v, path, false)
	}},
	{node: "plugins.security.kerberos.krb5_filepath", read: nodeSetting},
	{node: "plugins.security.kerberos.acceptor_keytab_filepath", read: nodeSetting},
	{node: "plugins.security.kerberos.acceptor_principal", read: nodeSetting},
}

var settingByName, settingByNode = func() (map[string]*realmdSetting, map[string]*realmdSetting) {
	byName, byNode := map[string]*realmdSetting{}, map[string]*realmdSetting{}
	for _, s := range realmdSettings {
		if s.name != "" {
			byName[s.name] = s
		}
		if s.node != "" {
			byNode[s.node] = s
		}
	}
	return byName, byNode
}()

// settingChildren returns the sorted keys directly below prefix in the
// realmd.yml key tree ("" is the top level).
func settingChildren(prefix string) []string {
	seen := map[string]bool{}
	for name := range settingByName {
		rest := name
		if prefix != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(name, prefix+"."); !ok {
				continue
			}
		}
		first, _, _ := strings.Cut(rest, ".")
		seen[first] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func intSetting(lo, hi int64, set func(r *Realmd, n int)) func(p *realmdParser, v *yaml.Node, path string) {
	return func(p *realmdParser, v *yaml.Node, path string) {
		if isNull(v) {
			return
		}
		before := len(*p.f.problems)
		n := p.f.integer(v, path, 0, lo, hi)
		if len(*p.f.problems) == before {
			set(&p.r, int(n))
		}
	}
}

// enumSetting reads one of allowed, after fold (case-insensitive).
func enumSetting(fold func(string) string, note string, set func(r *Realmd, s string), allowed ...string) func(p *realmdParser, v *yaml.Node, path string) {
	return func(p *realmdParser, v *yaml.Node, path string) {
		s, ok := p.f.str(v, path)
		if !ok {
			return
		}
		for _, a := range allowed {
			if fold(s) == a {
				set(&p.r, a)
				return
			}
		}
		p.f.errorf(v.Line, path, "must be %s, not %q%s", quoteList(allowed), s, note)
	}
}

func headerSetting(set func(h *IdentityHeaders, s string)) func(p *realmdParser, v *yaml.Node, path string) {
	return func(p *realmdParser, v *yaml.Node, path string) {
		s, ok := p.f.str(v, path)
		if !ok {
			return
		}
		if !validHeaderName(s) {
			p.f.errorf(v.Line, path, "%q is not a valid HTTP header name (letters, digits and !#$%%&'*+-.^_`|~, no spaces or colons)", s)
			return
		}
		set(&p.r.Headers, s)
		p.headerSet[path] = true
	}
}

// nodeSetting stores an OpenSearch node setting verbatim for the realms
// that read it; a list is joined with commas, which Config.List splits.
func nodeSetting(p *realmdParser, v *yaml.Node, path string) {
	var s string
	switch {
	case isNull(v):
		return
	case v.Kind == yaml.SequenceNode:
		s = strings.Join(values(p.f.list(v, path)), ",")
	default:
		var ok bool
		if s, ok = p.f.str(v, path); !ok {
			return
		}
	}
	if p.r.NodeSettings == nil {
		p.r.NodeSettings = map[string]string{}
	}
	p.r.NodeSettings[path] = s
}
