package ldap

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realmd/realmd/sdk"
)

// ConnConfig is how the realm reaches the directory.
type ConnConfig struct {
	Hosts []Host
	// Strategy is connection_strategy: active_passive (in order, the
	// default), round_robin or random.
	Strategy        string
	EnableStartTLS  bool
	ClientAuth      bool
	BindDN          string
	Password        string
	ConnectTimeout  time.Duration
	ResponseTimeout time.Duration
	TLS             TLSConfig
	Pool            PoolConfig
}

// Host is one directory server.
type Host struct {
	// Raw is the entry as configured, used in logs.
	Raw string
	// Addr is host:port.
	Addr string
	// Name is the host without port, checked against the certificate.
	Name string
	// LDAPS: TLS from the first byte (enable_ssl, or an ldaps:// URL).
	LDAPS bool
}

// PoolConfig holds the pool.* and validation.* keys.
type PoolConfig struct {
	Enabled  bool
	MinSize  int
	MaxSize  int
	Blocking bool
	// PruningPeriod is how often idle connections beyond MinSize are closed
	// once idle for IdleTime.
	PruningPeriod time.Duration
	IdleTime      time.Duration
	Validation    ValidationConfig
}

// ValidationConfig says when and how pooled connections are checked.
type ValidationConfig struct {
	Enabled      bool
	OnCheckin    bool
	OnCheckout   bool
	Periodically bool
	Period       time.Duration
	Timeout      time.Duration
	// Compare selects the compare strategy; otherwise a base search.
	Compare          bool
	SearchBaseDN     string
	SearchFilter     string
	CompareDN        string
	CompareAttribute string
	CompareValue     string
}

func readConnConfig(cfg *sdk.Config) ConnConfig {
	enableSSL := cfg.Bool("enable_ssl", false)
	c := ConnConfig{
		Strategy:        strings.ToLower(cfg.String("connection_strategy", "active_passive")),
		EnableStartTLS:  cfg.Bool("enable_start_tls", false),
		ClientAuth:      cfg.Bool("enable_ssl_client_auth", false),
		BindDN:          cfg.String("bind_dn", ""),
		Password:        cfg.String("password", ""),
		ConnectTimeout:  millis(cfg, "connect_timeout", DefaultConnectTimeout),
		ResponseTimeout: millis(cfg, "response_timeout", 0),
		TLS:             readTLSConfig(cfg),
		Pool:            readPoolConfig(cfg),
	}
	hosts := cfg.List("hosts", []string{DefaultHost})
	if len(hosts) == 0 {
		cfg.Problem("hosts", "must name at least one server")
	}
	for i, raw := range hosts {
		key := fmt.Sprintf("hosts[%d]", i)
		if !cfg.Has("hosts") || isScalar(cfg, "hosts") {
			key = "hosts"
		}
		h, err := parseHost(strings.TrimSpace(raw), enableSSL)
		if err != nil {
			cfg.Problem(key, "%v", err)
			continue
		}
		if h.LDAPS && c.EnableStartTLS {
			cfg.Problem(key, "%s uses ldaps, which cannot be combined with enable_start_tls", raw)
		}
		c.Hosts = append(c.Hosts, h)
	}
	switch c.Strategy {
	case "active_passive", "round_robin", "random":
	default:
		cfg.Problem("connection_strategy", "must be active_passive, round_robin or random, not %q", c.Strategy)
	}
	if c.BindDN != "" && c.Password == "" {
		cfg.Warn("bind_dn", "is set without a password: searching anonymously, as OpenSearch does; set password to bind as %s", c.BindDN)
		c.BindDN = ""
	}
	if c.ClientAuth && !c.TLS.hasClientCert() {
		cfg.Problem("enable_ssl_client_auth", "needs pemcert_filepath or pemcert_content and pemkey_filepath or pemkey_content")
	}
	return c
}

func isScalar(cfg *sdk.Config, key string) bool {
	v, _ := cfg.Raw(key)
	_, isList := v.([]any)
	return !isList
}

// parseHost reads host[:port] or an ldap:// or ldaps:// URL.
func parseHost(raw string, enableSSL bool) (Host, error) {
	if raw == "" {
		return Host{}, fmt.Errorf("empty host")
	}
	h := Host{Raw: raw, LDAPS: enableSSL}
	hostport := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return Host{}, fmt.Errorf("invalid URL %q: %v", raw, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "ldap":
			h.LDAPS = false
		case "ldaps":
			h.LDAPS = true
		default:
			return Host{}, fmt.Errorf("unsupported scheme %q in %q: use ldap:// or ldaps://", u.Scheme, raw)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return Host{}, fmt.Errorf("%q: an LDAP URL here names only a server, without DN or query", raw)
		}
		hostport = u.Host
	}
	name, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: a name, an IPv4 address or a bare IPv6 address.
		name, port = strings.Trim(hostport, "[]"), ""
	}
	if name == "" {
		return Host{}, fmt.Errorf("%q has no host name", raw)
	}
	if port == "" {
		port = "389"
		if h.LDAPS {
			port = "636"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return Host{}, fmt.Errorf("invalid port %q in %q", port, raw)
	}
	h.Name, h.Addr = name, net.JoinHostPort(name, port)
	return h, nil
}

func readPoolConfig(cfg *sdk.Config) PoolConfig {
	p := PoolConfig{
		Enabled:       cfg.Bool("pool.enabled", false),
		MinSize:       cfg.Int("pool.min_size", 3),
		MaxSize:       cfg.Int("pool.max_size", 10),
		Blocking:      cfg.String("pool.type", "") == "blocking",
		PruningPeriod: period(cfg, DefaultPruningPeriod, "pool.pruning_period", "pruning.period"),
		IdleTime:      positive(cfg, "pool.idle_time", positive(cfg, "pruning.idleTime", 10*time.Minute, time.Minute, "minutes"), time.Minute, "minutes"),
		Validation: ValidationConfig{
			Enabled:          cfg.Bool("validation.enabled", false),
			OnCheckin:        cfg.Bool("validation.on_checkin", false),
			OnCheckout:       cfg.Bool("validation.on_checkout", false),
			Periodically:     cfg.Bool("validation.periodically", true),
			Period:           period(cfg, DefaultValidationPeriod, "validation.period"),
			Timeout:          positive(cfg, "validation.timeout", 5*time.Second, time.Second, "seconds"),
			SearchBaseDN:     cfg.String("validation.search.base_dn", ""),
			SearchFilter:     cfg.String("validation.search.filter", "(objectClass=*)"),
			CompareDN:        cfg.String("validation.compare.dn", ""),
			CompareAttribute: cfg.String("validation.compare.attribute", "objectClass"),
			CompareValue:     cfg.String("validation.compare.value", "top"),
		},
	}
	switch s := strings.ToLower(cfg.String("validation.strategy", "search")); s {
	case "search":
	case "compare":
		p.Validation.Compare = true
	default:
		cfg.Problem("validation.strategy", "must be search or compare, not %q", s)
	}
	if p.MaxSize < 1 {
		cfg.Problem("pool.max_size", "must be at least 1")
	}
	if p.MinSize < 0 || p.MinSize > p.MaxSize {
		cfg.Problem("pool.min_size", "must be between 0 and pool.max_size (%d)", p.MaxSize)
	}
	return p
}

// Defaults of the pool's periods, which run tickers.
const (
	DefaultPruningPeriod    = 5 * time.Minute
	DefaultValidationPeriod = 30 * time.Minute
	// maxPeriodMinutes is the longest period a time.Duration holds.
	maxPeriodMinutes = math.MaxInt64 / int64(time.Minute)
)

// period reads a period in whole minutes from keys, the current name first
// and then any legacy names; the first one set wins, def when none is. The
// pool runs a ticker with it and time.NewTicker panics on a non-positive
// interval, so the value is checked whichever key set it, and the problem
// names the key the user wrote: a check of only the current name let
// `pruning.period: 0` pass and the plugin crash-loop.
func period(cfg *sdk.Config, def time.Duration, keys ...string) time.Duration {
	d := def
	for _, key := range slices.Backward(keys) {
		if !cfg.Has(key) {
			continue
		}
		n := cfg.Long(key, int64(def/time.Minute)) // getAsLong in OpenSearch
		switch {
		case n < 1:
			cfg.Problem(key, "must be at least 1 (minutes), not %d; remove it for the default of %d", n, def/time.Minute)
		case n > maxPeriodMinutes:
			cfg.Problem(key, "must be at most %d (minutes), not %d", maxPeriodMinutes, n)
		default:
			d = time.Duration(n) * time.Minute
		}
	}
	return d
}

// millis reads a duration in milliseconds, a Java long as OpenSearch's
// getAsLong reads it; negative means 0, as in OpenSearch, and more than a
// time.Duration holds is the longest it holds (about 292 years).
func millis(cfg *sdk.Config, key string, def time.Duration) time.Duration {
	n := cfg.Long(key, int64(def/time.Millisecond))
	n = min(max(n, 0), math.MaxInt64/int64(time.Millisecond))
	return time.Duration(n) * time.Millisecond
}

// positive reads a whole number of unit from key, which must be at least 1
// and fit a time.Duration; a refused value leaves def. Zero or less made
// idle connections close at once (pool.idle_time) or pool validation wait
// without a deadline (validation.timeout), and a huge value overflowed into
// a negative duration.
func positive(cfg *sdk.Config, key string, def, unit time.Duration, unitName string) time.Duration {
	if !cfg.Has(key) {
		return def
	}
	n, most := cfg.Long(key, int64(def/unit)), math.MaxInt64/int64(unit) // getAsLong in OpenSearch
	if n < 1 || n > most {
		cfg.Problem(key, "must be between 1 and %d (%s), not %d; remove it for the default of %d", most, unitName, n, def/unit)
		return def
	}
	return time.Duration(n) * unit
}
