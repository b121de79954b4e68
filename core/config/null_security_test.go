package config

import (
	"testing"
)

// OpenSearch's XFFResolver hands a null internalProxies to
// RemoteIpDetector.setInternalProxies, which trusts no proxy; a null
// remoteIpHeader fails every request from a trusted proxy; a null
// hosts_resolver_mode is IP_HOSTNAME to HostResolverMode.fromConfig.
func TestLoad_NullInSecuritySettingsIsWhatOpenSearchMakesOfIt(t *testing.T) {
	noProxy := "null or empty, so no proxy is trusted: OpenSearch then never reads X-Forwarded-For and every client is its TCP peer's address, " +
		"and so does realmd; remove the key for the default (the private, link-local and loopback IPv4 ranges), " +
		"or write a regular expression matching the proxies' addresses"
	tests := []struct {
		name   string
		config string
		want   []string
		xff    XFF
		mode   string
	}{
		{name: "null internalProxies trusts no proxy", config: minimalConfig + `    http:
      xff:
        enabled: true
        internalProxies:
`, want: []string{"config.yml:12: warning: config.dynamic.http.xff.internalProxies: " + noProxy},
			xff: XFF{Enabled: true, InternalProxies: "", RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "empty internalProxies warns too", config: minimalConfig + "    http: {xff: {enabled: true, internalProxies: ''}}\n",
			want: []string{"config.yml:9: warning: config.dynamic.http.xff.internalProxies: " + noProxy},
			xff:  XFF{Enabled: true, InternalProxies: "", RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "null internalProxies of a disabled xff is quiet", config: minimalConfig + "    http: {xff: {internalProxies: ~}}\n",
			xff: XFF{Enabled: false, InternalProxies: "", RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "null remoteIpHeader is refused", config: minimalConfig + `    http:
      xff:
        enabled: true
        remoteIpHeader: ~
`, want: []string{"config.yml:12: config.dynamic.http.xff.remoteIpHeader: null, which OpenSearch does not read as the default " +
			"(X-Forwarded-For): it fails every request from a trusted proxy (a NullPointerException looking the header up); " +
			"remove the key for X-Forwarded-For, or name the header"}},
		// A guard, as before: a disabled xff never looks a header up.
		{name: "null remoteIpHeader of a disabled xff is quiet", config: minimalConfig + "    http: {xff: {enabled: false, remoteIpHeader: ~}}\n",
			xff: XFF{Enabled: false, InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-only"},
		{name: "null hosts_resolver_mode is ip-hostname", config: minimalConfig + "    hosts_resolver_mode: ~\n",
			want: []string{"config.yml:9: warning: config.dynamic.hosts_resolver_mode: null is ip-hostname to OpenSearch, not the default ip-only: " +
				"role mapping hosts and ignore_hosts patterns also match the client's host name, in realmd too; " +
				"write ip-only, or remove the key, for the default"},
			xff: XFF{InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}, mode: "ip-hostname"},
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
