// Package config loads and validates a realmd config directory: OpenSearch's
// config.yml, internal_users.yml and roles_mapping.yml, unchanged, plus
// realmd's own optional realmd.yml.
package config

import (
	"fmt"
	"strings"
	"time"
)

// Standard file names inside a config directory.
const (
	ConfigFile        = "config.yml"
	InternalUsersFile = "internal_users.yml"
	RolesMappingFile  = "roles_mapping.yml"
	RolesFile         = "roles.yml"
	RealmdFile        = "realmd.yml"
)

// Settings is everything realmd reads from one config directory. It is
// immutable once Load returns.
type Settings struct {
	// Dir is the absolute config directory.
	Dir string
	// Hash is a SHA-256 (hex) over the content of every file Load read, so
	// that a reload can tell whether anything changed.
	Hash string
	// FileSums is the SHA-256 (hex) of each file Load read, by name, so
	// that a reload can tell which changed.
	FileSums map[string]string

	Security     Security
	Users        []InternalUser // in file order
	RoleMappings []RoleMapping  // in file order
	// Roles are the role names defined in roles.yml plus OpenSearch's
	// built-in static roles (all_access, readall, ...); internal users'
	// opendistro_security_roles are kept only when named here.
	Roles  map[string]bool
	Realmd Realmd
}

// Security is config.yml's config.dynamic section.
type Security struct {
	AnonymousAuthEnabled bool
	XFF                  XFF
	// Authc holds every domain that is enabled (http_enabled, and the legacy
	// enabled), sorted by ascending order. Disabled domains are dropped
	// after validation, as OpenSearch drops them.
	Authc []AuthcDomain
	// Authz holds every enabled authz domain in file order.
	Authz []AuthzDomain
	// AuthFailureListeners are config.dynamic.auth_failure_listeners, in
	// file order.
	AuthFailureListeners []AuthFailureListener
	HostsResolverMode    string // "ip-only" (default), "ip-hostname", "ip-hostname-lookup"
	DisableRestAuth      bool
	// Legacy is true when config.yml is the v1 (opendistro_security) form.
	Legacy bool
}

// AuthFailureListener is one config.dynamic.auth_failure_listeners entry
// (OpenSearch's rate limiters).
type AuthFailureListener struct {
	Name string
	Type string // "ip" or "username"
	// AuthenticationBackend is the class of the backends the listener is
	// attached to, as Component.Class names it ("ldap2" for ldap2); ""
	// makes it an IP listener.
	AuthenticationBackend string
	AllowedTries          int           // default 10
	TimeWindow            time.Duration // time_window_seconds, default 1h
	BlockExpiry           time.Duration // block_expiry_seconds, default 10m
	MaxBlockedClients     int           // default 100000
	MaxTrackedClients     int           // default 100000
	IgnoreHosts           []string      // patterns or CIDRs, validated
	Pos                   Pos
}

// XFF is config.dynamic.http.xff.
type XFF struct {
	Enabled         bool
	InternalProxies string // a full-match regular expression; "" trusts no proxy
	RemoteIPHeader  string // default X-Forwarded-For
}

// AuthcDomain is one config.dynamic.authc entry.
type AuthcDomain struct {
	Name          string
	Order         int
	Description   string
	Challenge     bool // http_authenticator.challenge, default true
	Authenticator Component
	Backend       Component // Type "internal" when not set
	Pos           Pos       // the domain's key
}

// AuthzDomain is one config.dynamic.authz entry.
type AuthzDomain struct {
	Name        string
	Description string
	Backend     Component
	Pos         Pos
}

// Component is an http_authenticator, authentication_backend or
// authorization_backend: a type and its free-form config map.
type Component struct {
	// Type is the canonical type name: aliases and OpenSearch Java class
	// names are resolved ("intern" and the InternalAuthenticationBackend
	// class are "internal"; "ldap2" is "ldap").
	Type string
	// RawType is the type as written.
	RawType string
	// Class, set for an authentication_backend only, names the OpenSearch
	// class the type loads: user name auth failure listeners match backends
	// by class (AuthFailureListener.AuthenticationBackend). It is Type,
	// except that "ldap2" and the LDAPAuthenticationBackend2 class names are
	// "ldap2": OpenSearch loads a class of its own for them, though realmd
	// runs them with the ldap plugin.
	Class string
	// Config is the `config:` map after ${env.X} substitution, as decoded
	// from YAML (maps, lists, strings, bools, float64 whole numbers; a
	// whole number beyond ±2^53 is its exact decimal text, a string; a
	// float is a json.Number with the text Java writes for it, "7.0").
	Config map[string]any
	// KeyLines maps a key path inside Config, in the flattened form the SDK
	// reports (`hosts`, `users.a.base`, `hosts[0]`), to its line, so that a
	// plugin's problem can be reported at file:line.
	KeyLines map[string]int
	// Path is the key path of the component, e.g.
	// "config.dynamic.authc.ldap.authentication_backend".
	Path string
	Pos  Pos
}

// Line returns the line of key inside the component's config, falling back
// to the component's own line.
func (c Component) Line(key string) int {
	for k := key; k != ""; {
		if l, ok := c.KeyLines[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return c.Pos.Line
}

// InternalUser is one internal_users.yml entry.
type InternalUser struct {
	Name          string
	Hash          string // "" means the user can never log in with a password
	BackendRoles  []string
	SecurityRoles []string // opendistro_security_roles, unfiltered
	Attributes    map[string]string
	Description   string
	Pos           Pos // of the user's key
	HashLine      int // of the hash, for the internal realm's problems with it; 0 when unset
}

// RoleMapping is one roles_mapping.yml entry. Patterns are validated by Load.
type RoleMapping struct {
	Role            string
	Users           []string
	BackendRoles    []string
	AndBackendRoles []string
	Hosts           []string
	Hidden          bool
	Pos             Pos
}

// Realmd is realmd.yml: realmd's own settings.
type Realmd struct {
	Listen string // default 127.0.0.1:9200
	// PluginDir holds third-party plugin executables; "" means none.
	PluginDir string
	// Catalog pins third-party plugins by name.
	Catalog map[string]CatalogEntry
	// CacheTTL caps how long an identity is cached; 0 disables the cache.
	// Default 60 minutes (cache.ttl_minutes).
	CacheTTL time.Duration
	// RolesMappingResolution is MAPPING_ONLY (default), BACKENDROLES_ONLY or BOTH.
	RolesMappingResolution string
	Headers                IdentityHeaders
	PasswordHashing        PasswordHashing
	// DisableAnonymous is plugins.security.compliance.disable_anonymous_authentication.
	DisableAnonymous bool
	// MaxHeaderBytes limits a request's header size; default 64 KiB.
	MaxHeaderBytes int
	// QueueSize bounds each pipeline stage's queue; default 1024.
	QueueSize int
	// RequestTimeout bounds one request's trip through the pipeline; default 10s.
	RequestTimeout time.Duration
	// NodeSettings are the OpenSearch node settings realmd passes on to
	// realms (plugins.security.kerberos.*), keyed by full name.
	NodeSettings map[string]string
	Pos          Pos
}

// CatalogEntry pins one third-party plugin executable.
type CatalogEntry struct {
	Name    string
	Command string // relative to PluginDir
	Args    []string
	Env     []string
	SHA256  string // hex; "" means not pinned
	Pos     Pos
}

// IdentityHeaders names the headers /auth answers with.
type IdentityHeaders struct {
	User         string // default X-Auth-User
	Roles        string // default X-Auth-Roles
	BackendRoles string // default X-Auth-Backend-Roles
}

// PasswordHashing is plugins.security.password.hashing.*: what `realmd hash`
// produces and which algorithm the internal backend expects.
type PasswordHashing struct {
	Algorithm         string // bcrypt (default), pbkdf2, argon2
	BcryptRounds      int    // 12
	BcryptMinor       string // Y
	PBKDF2Function    string // SHA256
	PBKDF2Iterations  int    // 600000
	PBKDF2Length      int    // 256 (bits)
	Argon2Memory      int    // 65536 (KiB)
	Argon2Iterations  int    // 3
	Argon2Parallelism int    // 1
	Argon2Length      int    // 32
	Argon2Type        string // argon2id
	Argon2Version     int    // 19
}

// Pos is a place in a config file.
type Pos struct {
	File string // base name, e.g. "config.yml"
	Line int
}

// Problem is one thing wrong with a config directory.
type Problem struct {
	File    string // base name
	Line    int    // 0 when the problem is about the file as a whole
	Key     string // key path, e.g. "config.dynamic.authc.basic.order"
	Message string
	// Warning problems do not stop the config from loading.
	Warning bool
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found; it is an error when any is not a warning.
type Problems []Problem

// Err returns p as an error when it holds at least one non-warning problem.
func (p Problems) Err() error {
	for _, x := range p {
		if !x.Warning {
			return p
		}
	}
	return nil
}

func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, x := range p {
		lines[i] = x.String()
	}
	return strings.Join(lines, "\n")
}
