package config

import (
	"testing"
)

// OpenSearch reads config.yml with Jackson, then deep-clones it through
// JSON without nulls (SecurityDynamicConfiguration.deepClone), so a null
// string setting is its default and a null boolean false. An earlier
// version read a null internalProxies as "trusts no proxy", a null
// remoteIpHeader as an error and a null hosts_resolver_mode as
// ip-hostname, from OpenSearch's code before that clone (found by review).
func TestLoad_NullInSecuritySettingsIsWhatOpenSearchMakesOfIt(t *testing.T) {
	noProxy := "empty, so no proxy is trusted: OpenSearch then never reads X-Forwarded-For and every client is its TCP peer's address, " +
		"and so does realmd; remove the key for the default (the private, link-local and loopback IPv4 ranges), " +
		"or write a regular expression matching the proxies' addresses"
	defaults := XFF{Enabled: true, InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}
	tests := []struct {
		name   string
		config string
		want   []string
		xff    XFF
		mode   string
	}{
		{name: "null internalProxies is the default", config: minimalConfig + `    http:
      xff:
        enabled: true
        internalProxies:
`, xff: defaults, mode: "ip-only"},
		{name: "empty internalProxies trusts no proxy, with a warning", config: minimalConfig + "    http: {xff: {enabled: true, internalProxies: ''}}\n",
			want: []string{"config.yml:9: warning: config.dynamic.http.xff.internalProxies: " + noProxy},
			xff:  XFF{Enabled: true, InternalProxies: "", RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "null remoteIpHeader is the default", config: minimalConfig + `    http:
      xff:
        enabled: true
        remoteIpHeader: ~
`, xff: defaults, mode: "ip-only"},
		{name: "null hosts_resolver_mode is the default", config: minimalConfig + "    hosts_resolver_mode: ~\n",
			xff: XFF{InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "legacy null xff enabled is false", config: legacyHeader + "    http: {xff: {enabled: ~}}\n",
			want: []string{legacyNote, "config.yml:5: warning: opendistro_security.dynamic.http.xff.enabled: null is false to OpenSearch, " +
				"not the default true: X-Forwarded-For is not read, in realmd too; write true, or remove the key, for the default"},
			xff: XFF{InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: tt.config}), nil)
			assertProblems(t, s, ps, tt.want...)
			if s == nil {
				return
			}
			if s.Security.XFF != tt.xff {
				t.Errorf("xff = %+v, want %+v", s.Security.XFF, tt.xff)
			}
			if s.Security.HostsResolverMode != tt.mode {
				t.Errorf("hosts resolver mode = %q, want %q", s.Security.HostsResolverMode, tt.mode)
			}
		})
	}
}
