package jwks

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// Defaults of OpenSearch's JWKS mode (spec 3.2 and 3.3).
const (
	DefaultRequestTimeout   = 5000 * time.Millisecond
	DefaultQueueTimeout     = 2500 * time.Millisecond
	DefaultRefreshWindow    = 10000 * time.Millisecond
	DefaultRefreshLimit     = 10
	DefaultMaxResponseBytes = 1 << 20
)

// Bounds of the refresh rate limit read from config. Refreshes are single
// flight, so without a bound the rate at which a flood of tokens with
// made-up kids makes the set fetch its URL is limited only by how fast the
// provider answers: a huge refresh_rate_limit_count (or a tiny window)
// rounds the spacing down to nothing and means "no limit".
const (
	// MinRefreshInterval is the smallest spacing of refresh starts that
	// config may ask for: at most 100 key-set requests a second per realm,
	// a hundred times OpenSearch's default rate (10 per 10 s, 1 s apart) and
	// far more than any key rotation needs.
	MinRefreshInterval = 10 * time.Millisecond
	// MaxRefreshLimit is the largest refresh_rate_limit_count: the default
	// window divided by MinRefreshInterval. OpenSearch's default is 10; a
	// larger count is a typo or an attempt at "no limit", which is not on
	// offer (a longer window with a proportionally larger count is the same
	// rate as a shorter one with a smaller count).
	MaxRefreshLimit = int(DefaultRefreshWindow / MinRefreshInterval)
)

// MaxResponseBytesLimit is the largest max_jwks_response_size_bytes. The
// body is read whole into memory and parsed, on every refresh, from a
// server realmd does not control; without a bound, a huge setting lets the
// provider (or anyone on the path of a plain http jwks_uri) make the plugin
// hold any amount of memory. OpenSearch's default is 1 MiB, which holds
// over a thousand RSA-4096 keys; 16 MiB is sixteen times that.
const MaxResponseBytesLimit = 16 << 20

// Options configure a Set. Zero durations and sizes take the defaults above.
type Options struct {
	// URL is the key set's address (jwks_uri). When empty, DiscoveryURL is
	// read on every refresh and its "jwks_uri" member is used.
	URL string
	// DiscoveryURL is an OpenID Connect discovery document
	// (openid_connect_url).
	DiscoveryURL string
	// Client makes the requests; nil means a client with the default
	// transport and the system trust store. Plugins that need custom TLS
	// pass a client built with NewHTTPClient. RequestTimeout applies either way.
	Client *http.Client
	// RequestTimeout bounds one refresh: discovery plus key set request.
	RequestTimeout time.Duration
	// QueueTimeout bounds how long a lookup waits for the first key set
	// while another lookup fetches it. Once a set has loaded, lookups never
	// wait for a refresh another lookup started.
	QueueTimeout time.Duration
	// RefreshWindow and RefreshLimit bound how often the set is fetched:
	// refreshes start at least RefreshWindow/RefreshLimit apart, so at most
	// RefreshLimit start within any RefreshWindow. A negative RefreshLimit
	// (refresh_rate_limit_count: 0) means one refresh per RefreshWindow.
	RefreshWindow time.Duration
	RefreshLimit  int
	// MaxKeys refuses a set with more keys; 0 or less means no limit.
	MaxKeys int
	// MaxResponseBytes refuses a larger response body, whatever its
	// Content-Length says.
	MaxResponseBytes int64
	// HTTPCache sends conditional requests (If-None-Match, If-Modified-Since)
	// and keeps the current keys on 304 Not Modified.
	HTTPCache bool
	// Logger receives refresh events; nil discards them.
	Logger hclog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = DefaultQueueTimeout
	}
	if o.RefreshWindow <= 0 {
		o.RefreshWindow = DefaultRefreshWindow
	}
	switch {
	case o.RefreshLimit == 0:
		o.RefreshLimit = DefaultRefreshLimit
	case o.RefreshLimit < 0:
		o.RefreshLimit = 0
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	switch {
	case o.URL != "":
		if err := checkURL(o.URL); err != nil {
			return o, fmt.Errorf("key set URL: %w", err)
		}
	case o.DiscoveryURL != "":
		if err := checkURL(o.DiscoveryURL); err != nil {
			return o, fmt.Errorf("discovery URL: %w", err)
		}
	default:
		return o, errors.New("neither a key set URL nor a discovery URL is set")
	}
	return o, nil
}

// refreshInterval is the minimum spacing of refresh starts; o has its
// defaults.
func (o Options) refreshInterval() time.Duration {
	return o.RefreshWindow / time.Duration(max(o.RefreshLimit, 1))
}

// checkURL accepts absolute http and https URLs. Its messages show the
// URL without its password, as every message of this package does.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its text quotes the URL whole
		}
		return fmt.Errorf("not a valid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http or https URL", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	return nil
}

// redacted is uri for a message: without its password.
func redacted(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "the URL"
	}
	return u.Redacted()
}

// Keys names the config keys ReadOptions reads; the jwt and openid realms
// spell the timeouts differently.
type Keys struct {
	RequestTimeout string // jwks_request_timeout_ms or idp_request_timeout_ms
	QueueTimeout   string // jwks_queued_thread_timeout_ms or idp_queued_thread_timeout_ms
}

// JWTKeys are the names the jwt realm uses.
var JWTKeys = Keys{RequestTimeout: "jwks_request_timeout_ms", QueueTimeout: "jwks_queued_thread_timeout_ms"}

// OIDCKeys are the names the openid realm uses.
var OIDCKeys = Keys{RequestTimeout: "idp_request_timeout_ms", QueueTimeout: "idp_queued_thread_timeout_ms"}

// ReadOptions reads the key-set settings shared by the jwt and openid realms
// from cfg, recording every problem there: the timeouts named by names,
// refresh_rate_limit_time_window_ms, refresh_rate_limit_count, max_jwks_keys,
// max_jwks_response_size_bytes and cache_jwks_endpoint (default cacheDefault).
// The rate limit must stay a limit: a count above MaxRefreshLimit, or a
// window and count that space refreshes less than MinRefreshInterval apart,
// is a problem and the defaults are used.
// It does not read the URLs: the caller sets URL or DiscoveryURL, and checks
// them with CheckURL.
func ReadOptions(cfg *sdk.Config, names Keys, cacheDefault bool) Options {
	o := Options{
		RequestTimeout: positiveMillis(cfg, names.RequestTimeout, DefaultRequestTimeout),
		QueueTimeout:   positiveMillis(cfg, names.QueueTimeout, DefaultQueueTimeout),
		RefreshWindow:  positiveMillis(cfg, "refresh_rate_limit_time_window_ms", DefaultRefreshWindow),
		RefreshLimit:   cfg.Int("refresh_rate_limit_count", DefaultRefreshLimit),
		MaxKeys:        cfg.Int("max_jwks_keys", -1),
		HTTPCache:      cfg.Bool("cache_jwks_endpoint", cacheDefault),
		Logger:         cfg.Logger(),
	}
	switch {
	case o.RefreshLimit < 0 || o.RefreshLimit > MaxRefreshLimit:
		cfg.Problem("refresh_rate_limit_count", "must be between 0 (one refresh per window) and %d, not %d", MaxRefreshLimit, o.RefreshLimit)
		o.RefreshLimit = DefaultRefreshLimit
	case o.RefreshLimit == 0:
		o.RefreshLimit = -1 // one refresh per window
	}
	if n := max(o.RefreshLimit, 1); o.RefreshWindow/time.Duration(n) < MinRefreshInterval {
		cfg.Problem("refresh_rate_limit_time_window_ms",
			"%d ms with refresh_rate_limit_count %d would start refreshes %s apart, closer than the minimum %s: the window must be at least %d ms, or the count lower",
			o.RefreshWindow.Milliseconds(), max(o.RefreshLimit, 0), o.RefreshWindow/time.Duration(n), MinRefreshInterval, int64(n)*MinRefreshInterval.Milliseconds())
		o.RefreshWindow, o.RefreshLimit = DefaultRefreshWindow, DefaultRefreshLimit
	}
	size := cfg.Long("max_jwks_response_size_bytes", DefaultMaxResponseBytes) // getAsLong in OpenSearch
	if size <= 0 || size > MaxResponseBytesLimit {
		cfg.Problem("max_jwks_response_size_bytes", "must be between 1 and %d (16 MiB), not %d", MaxResponseBytesLimit, size)
		size = DefaultMaxResponseBytes
	}
	o.MaxResponseBytes = size
	return o
}

// CheckURL reports whether s is an absolute http or https URL.
func CheckURL(s string) error { return checkURL(s) }

func positiveMillis(cfg *sdk.Config, key string, def time.Duration) time.Duration {
	ms := cfg.Int(key, int(def/time.Millisecond)) // a Java int: at most 2147483647
	if ms <= 0 {
		cfg.Problem(key, "must be a positive number of milliseconds (at most %d), not %d", math.MaxInt32, ms)
		return def
	}
	return time.Duration(ms) * time.Millisecond
}
