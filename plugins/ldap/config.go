package ldap

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/pattern"
)

// OpenSearch's defaults (spec 4.3 and 4.4). Note that the code defaults
// differ from the shipped sample config.
const (
	DefaultHost              = "localhost"
	DefaultUserSearch        = "(sAMAccountName={0})"
	DefaultRoleSearch        = "(member={0})"
	DefaultUserRoleName      = "memberOf"
	DefaultRoleName          = "name"
	DefaultMaxNestedDepth    = 30
	DefaultCustomAttrMaxLen  = 36
	DefaultConnectTimeout    = 5000 * time.Millisecond
	DefaultFakeLoginPassword = "fakeLoginPwd123"
	// DefaultMaxRoleEntries bounds the role entries one user's roles are
	// built from (see Config.MaxRoleEntries).
	DefaultMaxRoleEntries = 5000
	// DefaultOrder sorts users.* and roles.* bases without an order last.
	DefaultOrder = math.MaxInt32
	// maxRoleBases bounds roles.*: each role remembers its bases in a bit set.
	maxRoleBases = 64
)

// Config is an LDAP realm's configuration. Both the authentication backend
// and the authorizer read all of it, as OpenSearch does, so one config block
// copied into both places is accepted; each uses the part it needs.
type Config struct {
	Conn ConnConfig

	// UserBases are the user searches (userbase/usersearch or users.*), in
	// the order they are tried.
	UserBases []SearchBase
	// SearchAllBases: search every user base and treat more than one hit as
	// not found (userbase set, search_all_bases or fakelogin_enabled).
	SearchAllBases    bool
	UsernameAttribute string
	FakeLoginDN       string
	FakeLoginPassword string
	CustomAttrMaxLen  int
	CustomAttrAllow   pattern.Set
	// ReturnAttributes are requested in every search (custom_return_attributes);
	// realmd adds the attributes it needs itself when "*" is absent.
	ReturnAttributes []string
	FollowReferrals  bool

	RoleBases          []SearchBase
	RoleSearchEnabled  bool
	UserRoleAttribute  string
	UserRoleNames      []string
	RoleName           string
	ResolveNestedRoles bool
	NestedRoleFilter   pattern.Set
	MaxNestedDepth     int
	ExcludeRoles       pattern.Set
	SkipUsers          pattern.Set
	// MaxRoleEntries bounds one user's role lookup: the entries one role
	// search may return, and the role DNs found in all. More is an error,
	// never a partial list. Key max_role_entries, realmd's own.
	MaxRoleEntries int
}

// SearchBase is one named search: the base DN and the filter with its
// placeholders.
type SearchBase struct {
	Name   string
	Base   string
	Filter string
	Order  int
}

// ReadConfig reads the realm's config, recording every problem in cfg. It
// does no I/O: PEM files are read by Provision.
func ReadConfig(cfg *sdk.Config) *Config {
	c := &Config{
		Conn:              readConnConfig(cfg),
		UsernameAttribute: strings.TrimSpace(cfg.String("username_attribute", "")),
		FakeLoginDN:       cfg.String("fakelogin_dn", "CN=faketomakebindfail,DC="+randomUUID()),
		FakeLoginPassword: cfg.String("fakelogin_password", DefaultFakeLoginPassword),
		CustomAttrMaxLen:  cfg.Int("custom_attr_maxval_len", DefaultCustomAttrMaxLen),
		ReturnAttributes:  nonEmpty(cfg.List("custom_return_attributes", []string{"*"})),
		FollowReferrals:   cfg.Bool("follow_referrals", true),
		RoleSearchEnabled: cfg.Bool("rolesearch_enabled", true),
		UserRoleAttribute: strings.TrimSpace(cfg.String("userroleattribute", "")),
		UserRoleNames:     userRoleNames(cfg),
		RoleName:          strings.TrimSpace(cfg.String("rolename", DefaultRoleName)),
		MaxNestedDepth:    cfg.Int("max_nested_depth", DefaultMaxNestedDepth),
		MaxRoleEntries:    cfg.Int("max_role_entries", DefaultMaxRoleEntries),
	}
	fakeLogin := cfg.Bool("fakelogin_enabled", false)
	c.SearchAllBases = cfg.Bool("search_all_bases", false) || fakeLogin || cfg.Has("userbase")
	c.UserBases = readBases(cfg, "users", "userbase", "usersearch", DefaultUserSearch)
	c.RoleBases = readBases(cfg, "roles", "rolebase", "rolesearch", DefaultRoleSearch)
	c.ResolveNestedRoles = cfg.Bool("resolve_nested_roles", false)

	allow := "custom_attr_allowlist"
	if !cfg.Has(allow) && cfg.Has("custom_attr_whitelist") {
		allow = "custom_attr_whitelist"
	}
	cfg.Ignore("custom_attr_allowlist", "custom_attr_whitelist")
	c.CustomAttrAllow = patterns(cfg, allow, []string{"*"})
	c.NestedRoleFilter = patterns(cfg, "nested_role_filter", nil)
	c.ExcludeRoles = patterns(cfg, "exclude_roles", nil)
	c.SkipUsers = patterns(cfg, "skip_users", nil)

	if c.CustomAttrMaxLen < 0 {
		cfg.Problem("custom_attr_maxval_len", "must not be negative")
	}
	if c.MaxNestedDepth < 0 {
		cfg.Problem("max_nested_depth", "must not be negative")
	}
	if c.MaxRoleEntries < 1 {
		cfg.Problem("max_role_entries", "must be at least 1: it bounds the role entries one user's roles are read from")
	}
	if c.RoleName == "" {
		cfg.Problem("rolename", "must not be empty")
	}
	if len(c.RoleBases) > maxRoleBases {
		cfg.Problem("roles", "at most %d role bases are supported", maxRoleBases)
	}
	for _, b := range c.UserBases {
		checkBase(cfg, b, "users")
	}
	if c.RoleSearchEnabled {
		// OpenSearch accepts a broken role base while role search is off.
		for _, b := range c.RoleBases {
			checkBase(cfg, b, "roles")
		}
	}
	return c
}

// readBases reads multi-base keys (group.<name>.{base,search,order}) or the
// legacy single base. Using both is a problem for users (OpenSearch refuses
// to load such a domain); for roles the legacy keys are ignored, as in
// OpenSearch.
func readBases(cfg *sdk.Config, group, legacyBase, legacySearch, defSearch string) []SearchBase {
	base := cfg.String(legacyBase, "")
	search := cfg.String(legacySearch, defSearch)
	names := cfg.Children(group)
	if len(names) == 0 && cfg.Has(group) {
		// A value, not a block: reading a block whole would hide its
		// unknown keys, so it is read only when it has nothing below it.
		cfg.Raw(group)
		cfg.Problem(group, "must be a map of named bases, each with base, search and order")
	}
	if len(names) == 0 {
		return []SearchBase{{Name: legacyBase, Base: base, Filter: search, Order: DefaultOrder}}
	}
	if group == "users" && cfg.Has(legacyBase) {
		cfg.Problem(legacyBase, "cannot be combined with users.*: use one style")
	}
	bases := make([]SearchBase, 0, len(names))
	for _, n := range names {
		prefix := group + "." + n
		bases = append(bases, SearchBase{
			Name:   prefix,
			Base:   cfg.String(prefix+".base", ""),
			Filter: cfg.String(prefix+".search", defSearch),
			Order:  cfg.Int(prefix+".order", DefaultOrder),
		})
	}
	sort.SliceStable(bases, func(i, j int) bool {
		if bases[i].Order != bases[j].Order {
			return bases[i].Order < bases[j].Order
		}
		return bases[i].Name < bases[j].Name
	})
	return bases
}

// baseKeys names the config keys a search base came from.
func baseKeys(b SearchBase, group string) (base, search string) {
	switch {
	case strings.HasPrefix(b.Name, group+"."):
		return b.Name + ".base", b.Name + ".search"
	case group == "users":
		return "userbase", "usersearch"
	}
	return "rolebase", "rolesearch"
}

// checkBase parses the base DN and compiles the filter with sample values
// in its placeholders.
func checkBase(cfg *sdk.Config, b SearchBase, group string) {
	baseKey, searchKey := baseKeys(b, group)
	if _, err := goldap.ParseDN(b.Base); err != nil {
		cfg.Problem(baseKey, "invalid DN %q: %v", b.Base, err)
	}
	if _, err := goldap.CompileFilter(fillFilter(b.Filter, "x", "x", "x")); err != nil {
		cfg.Problem(searchKey, "invalid LDAP filter %q: %v", b.Filter, err)
	}
}

// fillFilter replaces {0}, {1} and {2} with values escaped per RFC 4515, in
// one pass so a value cannot inject another placeholder. The template is
// compacted first (see compactFilter). A filter without outer parentheses
// gets them, as JNDI accepts such filters.
func fillFilter(filter, v0, v1, v2 string) string {
	f := strings.NewReplacer(
		"{0}", goldap.EscapeFilter(v0),
		"{1}", goldap.EscapeFilter(v1),
		"{2}", goldap.EscapeFilter(v2),
	).Replace(compactFilter(filter))
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f
}

// compactFilter removes the whitespace of a filter template that lies
// outside every assertion value: around the whole filter, right after "(&",
// "(|" and "(!", and between ")" and "(" or ")" and ")". JNDI, which
// OpenSearch hands filters to, skips it there, so a filter folded over two
// YAML lines works; go-ldap refuses it. Whitespace inside an item such as
// "(cn=John Smith)" is kept: an item runs from its "(" to the first ")",
// as go-ldap reads it (a ")" in a value is escaped as \29). A filter without
// outer parentheses is one item and only trimmed.
func compactFilter(filter string) string {
	f := strings.TrimSpace(filter)
	if !strings.HasPrefix(f, "(") {
		return f
	}
	var b strings.Builder
	b.Grow(len(f))
	inItem := false
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case inItem:
			inItem = c != ')'
		case c == '(':
			inItem = i+1 < len(f) && !strings.ContainsRune("&|!", rune(f[i+1]))
		case isFilterSpace(c) && b.Len() > 0 && strings.ContainsRune(")&|!", rune(b.String()[b.Len()-1])):
			j := i
			for j < len(f) && isFilterSpace(f[j]) {
				j++
			}
			if j < len(f) && (f[j] == '(' || f[j] == ')') {
				i = j - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isFilterSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func patterns(cfg *sdk.Config, key string, def []string) pattern.Set {
	var set pattern.Set
	for i, p := range cfg.List(key, def) {
		m, err := pattern.Compile(p)
		if err != nil {
			cfg.Problem(fmt.Sprintf("%s[%d]", key, i), "%v", err)
			continue
		}
		set = append(set, m)
	}
	return set
}

// userRoleNames reads userrolename. OpenSearch reads it with Settings.get
// and splits it itself, not with getAsList (sdk.Config.List), so "" names
// no attribute where List would give the default memberOf.
func userRoleNames(cfg *sdk.Config) []string {
	if v, ok := cfg.Raw("userrolename"); ok {
		if s, ok := v.(string); ok {
			return nonEmpty(strings.Split(s, ","))
		}
	}
	return nonEmpty(cfg.List("userrolename", []string{DefaultUserRoleName}))
}

// nonEmpty trims the entries of a list and drops empty ones.
func nonEmpty(list []string) []string {
	out := list[:0:0]
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
