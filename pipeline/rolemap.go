package pipeline

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/pattern"
)

// Role-mapping resolution modes (plugins.security.roles_mapping_resolution).
const (
	MappingOnly      = "MAPPING_ONLY"
	BackendRolesOnly = "BACKENDROLES_ONLY"
	Both             = "BOTH"
)

// Host resolver modes (config.dynamic.hosts_resolver_mode).
const (
	IPOnly           = "ip-only"
	IPHostname       = "ip-hostname"
	IPHostnameLookup = "ip-hostname-lookup"
)

// Mapping is one roles_mapping.yml entry.
type Mapping struct {
	Role            string
	Users           []string
	BackendRoles    []string
	AndBackendRoles []string
	Hosts           []string
}

// MapperConfig configures a RoleMapper.
type MapperConfig struct {
	// Mode is upper-cased; an empty or unknown mode is MappingOnly, as in
	// OpenSearch (core should refuse an unknown value before it gets here).
	Mode      string
	HostsMode string // IPOnly when empty
	Mappings  []Mapping
	// KnownRoles are the roles defined in roles.yml; a user's own security
	// roles are kept only when known. Nil keeps them all.
	KnownRoles map[string]bool
	// HiddenRoles are roles whose mapping entry is hidden; a user's own
	// security roles never include them.
	HiddenRoles map[string]bool
	// LookupAddr does reverse DNS for IPHostnameLookup; nil disables it.
	// It gets the request's context as it is and must bound each lookup
	// itself (core's DNS cache answers a kept name at once and waits at
	// most 2 s for a new lookup): the mapper arms no timer of its own,
	// which cost one per request.
	LookupAddr func(ctx context.Context, ip string) ([]string, error)
}

type compiledMapping struct {
	role            string
	users           pattern.Set
	backendRoles    pattern.Set
	andBackendRoles pattern.Set
	hosts           pattern.Set
}

// RoleMapper maps users to security roles the way OpenSearch's
// ConfigurableRoleMapper does.
type RoleMapper struct {
	cfg      MapperConfig
	mappings []compiledMapping
	useHosts bool
}

// NewRoleMapper compiles every pattern; the error names each bad one.
func NewRoleMapper(cfg MapperConfig) (*RoleMapper, error) {
	switch cfg.Mode = strings.ToUpper(strings.TrimSpace(cfg.Mode)); cfg.Mode {
	case MappingOnly, BackendRolesOnly, Both:
	default:
		cfg.Mode = MappingOnly
	}
	if cfg.HostsMode == "" {
		cfg.HostsMode = IPOnly
	}
	m := &RoleMapper{cfg: cfg}
	var errs []string
	compile := func(role, field string, ps []string) pattern.Set {
		set, err := pattern.CompileSet(ps)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s.%s: %v", role, field, err))
		}
		return set
	}
	for _, mp := range cfg.Mappings {
		cm := compiledMapping{
			role:            mp.Role,
			users:           compile(mp.Role, "users", mp.Users),
			backendRoles:    compile(mp.Role, "backend_roles", mp.BackendRoles),
			andBackendRoles: compile(mp.Role, "and_backend_roles", mp.AndBackendRoles),
			hosts:           compile(mp.Role, "hosts", mp.Hosts),
		}
		m.useHosts = m.useHosts || len(cm.hosts) > 0
		m.mappings = append(m.mappings, cm)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("role mapping: %s", strings.Join(errs, "; "))
	}
	return m, nil
}

// UsesCaller reports whether mapping depends on the caller's address, that
// is whether any mapping has `hosts` patterns.
func (m *RoleMapper) UsesCaller() bool { return m.useHosts }

// Caller is where a request came from, for `hosts` patterns.
type Caller struct {
	// IP is the client address after X-Forwarded-For resolution, without port.
	IP string
	// Host is the name the client address was given as, when it was a name.
	Host string
}

// Map returns u's security roles for a request from caller, sorted.
func (m *RoleMapper) Map(ctx context.Context, u *sdk.User, caller Caller) []string {
	roles := map[string]bool{}
	for _, r := range u.SecurityRoles {
		if (m.cfg.KnownRoles == nil || m.cfg.KnownRoles[r]) && !m.cfg.HiddenRoles[r] {
			roles[r] = true
		}
	}
	if m.cfg.Mode == Both || m.cfg.Mode == BackendRolesOnly {
		for _, r := range u.BackendRoles {
			roles[r] = true
		}
	}
	if m.cfg.Mode == Both || m.cfg.Mode == MappingOnly {
		var hostNames []string
		if m.useHosts {
			hostNames = m.hostNames(ctx, caller)
		}
		for _, cm := range m.mappings {
			if roles[cm.role] {
				continue
			}
			if cm.users.Match(u.Name) ||
				cm.backendRoles.MatchAny(u.BackendRoles) ||
				(len(cm.andBackendRoles) > 0 && allMatch(cm.andBackendRoles, u.BackendRoles)) ||
				cm.hosts.MatchAny(hostNames) {
				roles[cm.role] = true
			}
		}
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// allMatch reports whether every pattern matches at least one value.
func allMatch(set pattern.Set, values []string) bool {
	for _, p := range set {
		if !slices.ContainsFunc(values, p.Match) {
			return false
		}
	}
	return true
}

// hostNames lists the strings `hosts` patterns are matched against. An
// IPv6 caller is matched in Go's form and in Java's (JavaHostAddress).
func (m *RoleMapper) hostNames(ctx context.Context, c Caller) []string {
	names := []string{c.IP}
	if j := JavaHostAddress(c.IP); j != c.IP {
		names = append(names, j)
	}
	if m.cfg.HostsMode == IPHostname || m.cfg.HostsMode == IPHostnameLookup {
		if c.Host != "" && c.Host != c.IP {
			names = append(names, c.Host)
		}
	}
	if m.cfg.HostsMode == IPHostnameLookup && m.cfg.LookupAddr != nil && c.IP != "" {
		if hosts, err := m.cfg.LookupAddr(ctx, c.IP); err == nil {
			for _, h := range hosts {
				names = append(names, strings.TrimSuffix(h, "."))
			}
		}
	}
	return names
}

// JavaHostAddress writes ip as Java's InetAddress.getHostAddress does, the
// text OpenSearch matches xff.internalProxies and ignore_hosts patterns
// against: an IPv6 address as eight groups of lowercase hex without leading
// zeros and without "::" (2001:db8:0:0:0:0:0:7 for 2001:db8::7), with its
// zone if any; an IPv4 or IPv4-mapped address as dotted IPv4. Text that is
// not an address is returned as it is. Only text with a colon is parsed.
func JavaHostAddress(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	b := a.As16()
	out := make([]byte, 0, 39+1+len(a.Zone()))
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = strconv.AppendUint(out, uint64(b[i])<<8|uint64(b[i+1]), 16)
	}
	if z := a.Zone(); z != "" {
		out = append(out, '%')
		out = append(out, z...)
	}
	return string(out)
}
