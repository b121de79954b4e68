package core

import (
	"context"
	"net/netip"
	"strings"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk/pattern"
)

// failureLimits turns config.dynamic.auth_failure_listeners into the
// pipeline's limits. Two forms have no effect in OpenSearch (it logs an
// error, or never consults their blocks), and the loader warns about them:
// a username listener without authentication_backend and an ip listener
// with one. They are left out here.
func failureLimits(s *config.Settings) []pipeline.FailureLimit {
	var out []pipeline.FailureLimit
	for _, l := range s.Security.AuthFailureListeners {
		limit := pipeline.FailureLimit{
			Name: l.Name, AllowedTries: l.AllowedTries, Window: l.TimeWindow, BlockFor: l.BlockExpiry,
			MaxTracked: l.MaxTrackedClients, MaxBlocked: l.MaxBlockedClients,
		}
		switch {
		case l.Type == "ip" && l.AuthenticationBackend == "":
			limit.Ignore = ignoreHosts(l.IgnoreHosts, s.Security.HostsResolverMode)
		case l.Type == "username" && l.AuthenticationBackend != "":
			limit.Backend = l.AuthenticationBackend
		default:
			continue
		}
		out = append(out, limit)
	}
	return out
}

// ignoreHosts matches ignore_hosts as OpenSearch's HostAndCidrMatcher does:
// an entry that is an address or a CIDR contains the IP, or any entry as a
// pattern matches the IP (in Go's or Java's form, matchAddress) or, under
// the ip-hostname resolver modes, a name the IP resolves to (a lookup kept
// as Java keeps it, addrLookups). Nil when there are no entries.
func ignoreHosts(entries []string, resolverMode string) func(context.Context, string) bool {
	if len(entries) == 0 {
		return nil
	}
	var prefixes []netip.Prefix
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			prefixes = append(prefixes, p.Masked())
		} else if a, err := netip.ParseAddr(e); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	patterns, _ := pattern.CompileSet(entries) // the loader has checked every entry
	lookup := resolverMode == pipeline.IPHostname || resolverMode == pipeline.IPHostnameLookup
	return func(ctx context.Context, ip string) bool {
		if a, err := netip.ParseAddr(ip); err == nil {
			a = a.Unmap()
			for _, p := range prefixes {
				if p.Contains(a) {
					return true
				}
			}
		}
		if matchAddress(patterns.Match, ip) {
			return true
		}
		if !lookup {
			return false
		}
		names, err := addrLookups.Lookup(ctx, ip)
		if err != nil {
			return false
		}
		for _, n := range names {
			if patterns.Match(strings.TrimSuffix(n, ".")) {
				return true
			}
		}
		return false
	}
}
