package config

import (
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk/pattern"
)

// defaultInternalProxies is OpenSearch's default http.xff.internalProxies:
// the private, link-local and loopback IPv4 ranges.
const defaultInternalProxies = `10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|169\.254\.\d{1,3}\.\d{1,3}|` +
	`127\.\d{1,3}\.\d{1,3}\.\d{1,3}|172\.1[6-9]{1}\.\d{1,3}\.\d{1,3}|172\.2[0-9]{1}\.\d{1,3}\.\d{1,3}|172\.3[0-1]{1}\.\d{1,3}\.\d{1,3}`

// securityParser reads config.yml, v2 or legacy v1.
type securityParser struct {
	f      *file
	legacy bool
	prefix string // "config.dynamic" or "opendistro_security.dynamic"
	sec    Security
	authc  []authcEntry
}

// authcEntry is an enabled authc domain with the line of its order.
type authcEntry struct {
	d         AuthcDomain
	orderLine int
}

// parseSecurity reads config.yml's root node.
func parseSecurity(f *file, root *yaml.Node) Security {
	p := &securityParser{f: f, prefix: "config.dynamic", sec: Security{
		XFF:               XFF{InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"},
		HostsResolverMode: "ip-only",
	}}
	switch {
	case root == nil:
		f.errorf(0, "", "the file is empty; it needs _meta: {type: config, config_version: 2} and config: dynamic: ...")
		return p.sec
	case root.Kind != yaml.MappingNode:
		f.errorf(root.Line, "", "must be a mapping with _meta and config, not %s", describe(root))
		return p.sec
	case hasKey(root, "_meta"):
		p.v2(root)
	case hasKey(root, "opendistro_security"):
		p.v1(root)
	case hasKey(root, "plugins.security") || hasKey(root, "plugins"):
		k := keyNode(root, "plugins.security")
		if k == nil {
			k = keyNode(root, "plugins")
		}
		f.errorf(k.Line, k.Value, "\"%s: dynamic:\" (with authcz:) is not a config.yml format OpenSearch reads; "+
			"it is a leftover in OpenSearch's test resources. Use _meta: {type: config, config_version: 2} and config: dynamic: "+
			"with separate authc: and authz: maps", k.Value)
		return p.sec
	default:
		f.errorf(0, "_meta", "missing: add _meta: {type: config, config_version: 2} "+
			"(a legacy v1 file has no _meta and the top key opendistro_security instead of config)")
		p.v2(root)
	}
	p.finish()
	return p.sec
}

func (p *securityParser) v2(root *yaml.Node) {
	f := p.f
	f.object(root, "", fields{
		"_meta": func(_, v *yaml.Node, path string) { f.meta(v, path, "config") },
		"config": func(_, v *yaml.Node, path string) {
			f.object(v, path, fields{"dynamic": p.dynamic}, nil)
		},
	}, hints{
		"opendistro_security": "this legacy v1 top key is read only in a file without _meta; in a v2 file write config: dynamic:",
		"opensearch_security": "there is no opensearch_security form; write config: dynamic:",
	})
	if !hasKey(root, "config") {
		f.errorf(0, "config", "missing: add config: dynamic: with your authc: and authz: domains")
	}
}

func (p *securityParser) v1(root *yaml.Node) {
	f := p.f
	p.legacy, p.prefix = true, "opendistro_security.dynamic"
	p.sec.Legacy = true
	p.sec.XFF.Enabled = true // the v1 default
	f.legacyWarning("config")
	f.object(root, "", fields{
		"opendistro_security": func(_, v *yaml.Node, path string) {
			f.object(v, path, fields{"dynamic": p.dynamic}, nil)
		},
	}, hints{
		"config": "config: is the v2 form, which needs _meta: {type: config, config_version: 2}; in this legacy v1 file (no _meta) write opendistro_security: dynamic:",
	})
}

// legacyWarning notes that a file is read in the legacy v1 format.
func (f *file) legacyWarning(metaType string) {
	f.warnf(0, "", "no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; "+
		"consider converting it and adding _meta: {type: %s, config_version: 2}", metaType)
}

// v2OnlyDynamic are config.dynamic keys the v1 format does not have.
var v2OnlyDynamic = []string{"on_behalf_of", "api_tokens", "privileges_evaluation_type", "privileges_evaluation_ignore_unauthorized_indices"}

func (p *securityParser) dynamic(_, v *yaml.Node, path string) {
	f := p.f
	fs := fields{
		"filtered_alias_mode":             f.ignoreString,
		"disable_rest_auth":               func(_, v *yaml.Node, path string) { p.sec.DisableRestAuth = f.boolean(v, path, false) },
		"disable_intertransport_auth":     f.ignoreBool,
		"respect_request_indices_options": f.ignoreBool,
		"license":                         f.ignoreString,
		"kibana":                          p.kibana,
		"http":                            p.http,
		"authc":                           func(_, v *yaml.Node, path string) { f.pairs(v, path, p.authcDomain) },
		"authz":                           func(_, v *yaml.Node, path string) { f.pairs(v, path, p.authzDomain) },
		"auth_failure_listeners":          func(_, v *yaml.Node, path string) { f.pairs(v, path, p.listener) },
		"do_not_fail_on_forbidden":        f.ignoreBool,
		"do_not_fail_on_forbidden_empty":  f.ignoreBool,
		"multi_rolespan_enabled":          f.ignoreBool,
		"hosts_resolver_mode":             p.hostsResolverMode,
		"transport_userrname_attribute":   f.ignoreString,
	}
	h := hints{"authcz": "authc and authz are separate maps: authc: for authentication domains, authz: for authorization domains"}
	if p.legacy {
		for _, k := range v2OnlyDynamic {
			h[k] = "it exists only in the v2 format (with _meta); this legacy v1 file does not accept it"
		}
	} else {
		fs["privileges_evaluation_type"] = f.ignoreString
		fs["privileges_evaluation_ignore_unauthorized_indices"] = f.ignoreBool
		fs["on_behalf_of"] = p.onBehalfOf
		fs["api_tokens"] = p.apiTokens
	}
	f.object(v, path, fs, h)
}

func (p *securityParser) kibana(_, v *yaml.Node, path string) {
	f := p.f
	fs := fields{
		"multitenancy_enabled": f.ignoreBool,
		"server_username":      f.ignoreString,
		"opendistro_role":      f.ignoreString,
		"index":                f.ignoreString,
	}
	if p.legacy {
		fs["do_not_fail_on_forbidden"] = f.ignoreBool
	} else {
		fs["private_tenant_enabled"] = f.ignoreBool
		fs["default_tenant"] = f.ignoreString
		fs["preferred_tenants"] = f.ignoreList
		fs["sign_in_options"] = f.ignoreList
	}
	f.object(v, path, fs, nil)
}

func (p *securityParser) onBehalfOf(_, v *yaml.Node, path string) {
	f := p.f
	f.object(v, path, fields{
		"enabled": f.ignoreBool,
		"signing_key": func(_, v *yaml.Node, path string) {
			if s, ok := f.str(v, path); ok && s != "" {
				f.warnf(v.Line, path, "realmd does not issue or accept OpenSearch on-behalf-of tokens; this setting is ignored")
			}
		},
		"encryption_key": f.ignoreString,
	}, nil)
}

func (p *securityParser) apiTokens(_, v *yaml.Node, path string) {
	f := p.f
	f.object(v, path, fields{
		"enabled": func(_, v *yaml.Node, path string) {
			if f.boolean(v, path, false) {
				f.warnf(v.Line, path, "realmd does not implement OpenSearch API tokens; this setting is ignored")
			}
		},
		"max_tokens":           f.ignoreInt,
		"max_duration_seconds": f.ignoreLong,
	}, nil)
}

func (p *securityParser) http(_, v *yaml.Node, path string) {
	f := p.f
	f.object(v, path, fields{
		"anonymous_auth_enabled": func(_, v *yaml.Node, path string) {
			p.sec.AnonymousAuthEnabled = f.boolean(v, path, false)
		},
		"xff": p.xff,
	}, nil)
}

// xff reads http.xff. A null is what OpenSearch makes of it: it reads the
// config with Jackson, then deep-clones it through JSON that leaves nulls
// out (SecurityDynamicConfiguration.deepClone, NON_NULL inclusion), so a
// null boolean (enabled) is false, and a null string (internalProxies,
// remoteIpHeader) is its default. An empty internalProxies trusts no proxy.
func (p *securityParser) xff(_, v *yaml.Node, path string) {
	f := p.f
	x := &p.sec.XFF
	proxiesLine := 0
	fs := fields{
		"enabled": func(_, v *yaml.Node, path string) {
			x.Enabled = f.javaBool(v, path, x.Enabled, "X-Forwarded-For is not read")
		},
		"internalProxies": func(_, v *yaml.Node, path string) {
			proxiesLine = v.Line
			if isNull(v) {
				return // the default
			}
			s, ok := f.str(v, path)
			if !ok {
				return
			}
			if _, err := pattern.CompileWhole(s); err != nil {
				f.errorf(v.Line, path, "not a regular expression realmd can use (Go RE2 syntax, which lacks Java's lookaround and backreferences): %v", err)
				return
			}
			x.InternalProxies = s
		},
		"remoteIpHeader": func(_, v *yaml.Node, path string) {
			if isNull(v) {
				return // the default
			}
			if s, ok := f.str(v, path); ok {
				if !validHeaderName(s) {
					f.errorf(v.Line, path, "%q is not a valid HTTP header name", s)
					return
				}
				x.RemoteIPHeader = s
			}
		},
	}
	if p.legacy {
		ignored := func(_, v *yaml.Node, path string) {
			if _, ok := f.str(v, path); ok {
				f.warnf(v.Line, path, "accepted and ignored: OpenSearch drops this v1 setting when it converts the file")
			}
		}
		fs["proxiesHeader"] = ignored
		fs["trustedProxies"] = ignored
	}
	f.object(v, path, fs, nil)
	if !x.Enabled {
		return
	}
	if x.InternalProxies == "" {
		f.warnf(proxiesLine, join(path, "internalProxies"), "empty, so no proxy is trusted: OpenSearch then never reads %s "+
			"and every client is its TCP peer's address, and so does realmd; remove the key for the default (the private, link-local "+
			"and loopback IPv4 ranges), or write a regular expression matching the proxies' addresses", x.RemoteIPHeader)
	}
}

func (p *securityParser) hostsResolverMode(_, v *yaml.Node, path string) {
	if isNull(v) {
		return // the default, ip-only, after OpenSearch's deep clone (see xff)
	}
	s, ok := p.f.str(v, path)
	if !ok {
		return
	}
	for _, m := range []string{"ip-only", "ip-hostname", "ip-hostname-lookup"} {
		if equalsIgnoreCase(s, m) {
			p.sec.HostsResolverMode = m
			return
		}
	}
	p.f.warnf(v.Line, path, "%q is not ip-only, ip-hostname or ip-hostname-lookup in any letter case; OpenSearch then matches hosts against the IP address only, and so does realmd", s)
}

// equalsIgnoreCase reports whether s and t are equal as Java's
// String.equalsIgnoreCase sees them, which OpenSearch's
// HostResolverMode.fromConfig uses: character by character, two characters
// are equal if their upper cases are, or the lower cases of those. Unlike
// strings.EqualFold it matches "İ" and "ı" to "i".
func equalsIgnoreCase(s, t string) bool {
	a, b := []rune(s), []rune(t)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ua, ub := unicode.ToUpper(a[i]), unicode.ToUpper(b[i])
		if a[i] != b[i] && ua != ub && unicode.ToLower(ua) != unicode.ToLower(ub) {
			return false
		}
	}
	return true
}
