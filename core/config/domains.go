package config

import (
	"fmt"
	"sort"
	"time"

	"github.com/realmd/realmd/sdk/pattern"
	"gopkg.in/yaml.v3"
)

// legacyDomainHint explains `description` in a v1 domain.
const legacyDomainHint = "it exists only in the v2 format (with _meta); this legacy v1 file does not accept it"

func (p *securityParser) authcDomain(k, v *yaml.Node, path string) {
	f := p.f
	d := AuthcDomain{
		Name:          k.Value,
		Challenge:     true,
		Pos:           Pos{File: f.name, Line: k.Line},
		Authenticator: emptyComponent(f, join(path, "http_authenticator"), k.Line, ""),
		Backend:       emptyComponent(f, join(path, "authentication_backend"), k.Line, TypeInternal),
	}
	httpEnabled, enabled := true, true
	orderLine, authnLine, backendLine := k.Line, k.Line, k.Line
	fs := fields{
		"http_enabled":      func(_, v *yaml.Node, path string) { httpEnabled = f.javaBool(v, path, true, domainOff) },
		"transport_enabled": f.ignoreBool,
		"order": func(_, v *yaml.Node, path string) {
			// A null order is Java's 0, which is also the default.
			d.Order = int(f.integer(v, path, 0, minInt32, maxInt32))
			orderLine = v.Line
		},
		"http_authenticator": func(k, v *yaml.Node, path string) {
			d.Authenticator, authnLine = f.component(k, v, path, "", &d.Challenge)
		},
		"authentication_backend": func(k, v *yaml.Node, path string) {
			d.Backend, backendLine = f.component(k, v, path, TypeInternal, nil)
		},
	}
	h := hints{"authorization_backend": "authorization_backend belongs in an authz domain (config.dynamic.authz)"}
	p.versionKeys(fs, h, &enabled, &d.Description)
	f.object(v, path, fs, h)

	on := httpEnabled && enabled
	f.canonicalize(&d.Authenticator, authnLine, authenticatorSlot, on)
	f.canonicalize(&d.Backend, backendLine, authcBackendSlot, on)
	d.Backend.Class = backendClass(d.Backend.RawType, d.Backend.Type)
	if !on {
		return
	}
	if d.Authenticator.RawType == "" {
		f.warnf(authnLine, join(d.Authenticator.Path, "type"),
			"missing, so OpenSearch drops this domain without a word; realmd drops it too (set a type such as basic to use it)")
		return
	}
	p.authc = append(p.authc, authcEntry{d: d, orderLine: orderLine})
}

func (p *securityParser) authzDomain(k, v *yaml.Node, path string) {
	f := p.f
	d := AuthzDomain{
		Name:    k.Value,
		Pos:     Pos{File: f.name, Line: k.Line},
		Backend: emptyComponent(f, join(path, "authorization_backend"), k.Line, TypeNoop),
	}
	httpEnabled, enabled := true, true
	backendLine := k.Line
	fs := fields{
		"http_enabled":      func(_, v *yaml.Node, path string) { httpEnabled = f.javaBool(v, path, true, domainOff) },
		"transport_enabled": f.ignoreBool,
		"authorization_backend": func(k, v *yaml.Node, path string) {
			d.Backend, backendLine = f.component(k, v, path, TypeNoop, nil)
		},
	}
	h := hints{
		"authentication_backend": "authentication_backend belongs in an authc domain (config.dynamic.authc)",
		"http_authenticator":     "http_authenticator belongs in an authc domain (config.dynamic.authc)",
		"order":                  "authz domains have no order: every enabled one runs",
	}
	p.versionKeys(fs, h, &enabled, &d.Description)
	f.object(v, path, fs, h)
	on := httpEnabled && enabled
	f.canonicalize(&d.Backend, backendLine, authzBackendSlot, on)
	if on {
		p.sec.Authz = append(p.sec.Authz, d)
	}
}

// domainOff is what a null http_enabled or legacy enabled does.
const domainOff = "the domain is off"

// versionKeys adds the keys that differ between the v1 and v2 domain
// formats: v1 has enabled and no description, v2 the other way round.
func (p *securityParser) versionKeys(fs fields, h hints, enabled *bool, description *string) {
	f := p.f
	if p.legacy {
		fs["enabled"] = func(_, v *yaml.Node, path string) { *enabled = f.javaBool(v, path, true, domainOff) }
		h["description"] = legacyDomainHint
	} else {
		fs["description"] = func(_, v *yaml.Node, path string) { *description, _ = f.str(v, path) }
		h["enabled"] = "enabled is a legacy v1 key; in the v2 format write http_enabled"
	}
}

func emptyComponent(f *file, path string, line int, typ string) Component {
	return Component{Type: typ, Path: path, Pos: Pos{File: f.name, Line: line}, Config: map[string]any{}, KeyLines: map[string]int{}}
}

// listenerTypes maps auth failure listener types, short names and
// OpenSearch class names, to "ip" or "username".
var listenerTypes = map[string]string{
	"ip":       "ip",
	"username": "username",
	"org.opensearch.security.auth.limiting.AddressBasedRateLimiter":  "ip",
	"org.opensearch.security.auth.limiting.UserNameBasedRateLimiter": "username",
}

func (p *securityParser) listener(k, v *yaml.Node, path string) {
	f := p.f
	l := AuthFailureListener{
		Name: k.Value, Pos: Pos{File: f.name, Line: k.Line},
		AllowedTries: 10, TimeWindow: time.Hour, BlockExpiry: 10 * time.Minute,
		MaxBlockedClients: 100000, MaxTrackedClients: 100000,
	}
	// The counts are Java ints: Jackson gives a null 0, not the default,
	// and realmd refuses 0 (OpenSearch refuses it in allowed_tries).
	nullInt := func(v *yaml.Node, path string, def int64) {
		f.errorf(v.Line, path, "null is 0 to OpenSearch, not the default %d, and must be at least 1; "+
			"write %d, or remove the key, for the default", def, def)
	}
	positive := func(dst *int) func(_, v *yaml.Node, path string) {
		return func(_, v *yaml.Node, path string) {
			if isNull(v) {
				nullInt(v, path, int64(*dst))
				return
			}
			*dst = int(f.integer(v, path, int64(*dst), 1, maxInt32))
		}
	}
	seconds := func(dst *time.Duration) func(_, v *yaml.Node, path string) {
		return func(_, v *yaml.Node, path string) {
			if isNull(v) {
				nullInt(v, path, int64(*dst/time.Second))
				return
			}
			*dst = time.Duration(f.integer(v, path, int64(*dst/time.Second), 1, maxInt32)) * time.Second
		}
	}
	typeLine, backendLine := k.Line, k.Line
	fs := fields{
		"type": func(_, v *yaml.Node, path string) {
			typeLine = v.Line
			if s, ok := f.str(v, path); ok {
				l.Type = s
			}
		},
		"authentication_backend": func(_, v *yaml.Node, path string) {
			backendLine = v.Line
			s, ok := f.str(v, path)
			if !ok || s == "" {
				return
			}
			t, msg := canonicalType(s, authcBackendSlot)
			if msg != "" {
				f.errorf(v.Line, path, "%s", msg)
			}
			l.AuthenticationBackend = backendClass(s, t)
		},
		"allowed_tries":        positive(&l.AllowedTries),
		"time_window_seconds":  seconds(&l.TimeWindow),
		"block_expiry_seconds": seconds(&l.BlockExpiry),
		"max_blocked_clients":  positive(&l.MaxBlockedClients),
		"max_tracked_clients":  positive(&l.MaxTrackedClients),
	}
	if !p.legacy {
		fs["ignore_hosts"] = func(_, v *yaml.Node, path string) {
			for _, it := range f.list(v, path) {
				if _, err := pattern.Compile(it.value); err != nil {
					f.errorf(it.line, it.path, "%v", err)
				}
				l.IgnoreHosts = append(l.IgnoreHosts, it.value)
			}
		}
	}
	f.object(v, path, fs, nil)
	switch t, ok := listenerTypes[l.Type]; {
	case l.Type == "":
		f.errorf(typeLine, join(path, "type"), "missing: set type: ip or type: username")
	case ok:
		l.Type = t
	default:
		f.errorf(typeLine, join(path, "type"), "must be ip or username, not %q", l.Type)
	}
	if l.Type == "username" && l.AuthenticationBackend == "" {
		f.warnf(typeLine, join(path, "type"), "a username listener without authentication_backend has no effect "+
			"(OpenSearch registers it as an IP listener whose blocks are never consulted); set authentication_backend, e.g. internal")
	}
	if l.Type == "ip" && l.AuthenticationBackend != "" {
		f.warnf(backendLine, join(path, "authentication_backend"), "an ip listener with authentication_backend has no effect "+
			"(OpenSearch logs an error and never consults its blocks); remove authentication_backend to block addresses")
	}
	p.sec.AuthFailureListeners = append(p.sec.AuthFailureListeners, l)
}

// finish checks the enabled authc domains and sorts them by order. Two
// enabled domains with one order are an error (OpenSearch keeps one).
func (p *securityParser) finish() {
	first := map[int]authcEntry{}
	for _, e := range p.authc { // in file order
		prev, dup := first[e.d.Order]
		if !dup {
			first[e.d.Order] = e
			continue
		}
		p.f.errorf(e.orderLine, fmt.Sprintf("%s.authc.%s.order", p.prefix, e.d.Name),
			"order %d is also the order of enabled domain %q (%s:%d); OpenSearch would silently keep only one of them; give each enabled domain its own order",
			e.d.Order, prev.d.Name, p.f.name, prev.orderLine)
	}
	sort.SliceStable(p.authc, func(i, j int) bool { return p.authc[i].d.Order < p.authc[j].d.Order })
	p.sec.Authc = make([]AuthcDomain, len(p.authc))
	for i, e := range p.authc {
		p.sec.Authc[i] = e.d
	}
	for _, l := range p.sec.AuthFailureListeners {
		if l.Type == "ip" && l.AuthenticationBackend == "" && !p.sec.XFF.Enabled {
			p.f.warnf(l.Pos.Line, fmt.Sprintf("%s.auth_failure_listeners.%s", p.prefix, l.Name),
				"blocks the TCP peer's address, and behind a reverse proxy every request comes from the proxy's, so one client's failures "+
					"would block everyone; enable %s.http.xff with internalProxies matching the proxy, so that realmd blocks the client it names", p.prefix)
		}
	}
	if len(p.sec.Authc) == 0 && !p.sec.AnonymousAuthEnabled && !p.sec.DisableRestAuth {
		p.f.warnf(0, "", "no enabled authc domain and anonymous auth is off: every request will be refused "+
			"(OpenSearch answers 503 Security not initialized); enable a domain in %s.authc", p.prefix)
	}
}
