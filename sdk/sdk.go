// Package sdk is what a realmd realm plugin imports: the capability interfaces,
// the values that cross the wire, the errors, the config reader and Serve.
//
// A plugin implements one or more of Authenticator, Backend and Authorizer,
// lists its factories in a Plugin and calls Serve from main. It never imports
// go-plugin or gRPC.
package sdk

import (
	"context"
	"math"
	"time"
)

// CacheForever is a CacheTTL for answers that stay true until the config
// changes (a password checked against a static hash, an extracted header).
// realmd caps every TTL by cache.ttl_minutes, and a reload drops the cache.
const CacheForever = time.Duration(math.MaxInt64)

// Request is the part of an HTTP request an authenticator may read. Header
// names are canonical (http.CanonicalHeaderKey). realmd sends only the headers
// and query parameters the authenticator declared in its Inputs, and of a
// repeated header only its last line, as OpenSearch reads it.
type Request struct {
	Method string
	Path   string
	Header map[string][]string
	Query  map[string][]string
	// SocketAddress is the TCP peer, ip:port.
	SocketAddress string
	// ClientAddress is the caller after X-Forwarded-For resolution, ip:port.
	ClientAddress string
	// PeerCertificates are DER certificates, leaf first: the TLS peer chain, or
	// one delegated by a trusted proxy.
	PeerCertificates [][]byte
}

// HeaderValue returns the last value of the named header, or "". A
// repeated header is its last line, as OpenSearch's REST layer reads it
// (NettyRequest.getHeaders keeps one value per name, a later line replacing
// an earlier one): two Authorization lines are the second.
func (r *Request) HeaderValue(name string) string {
	if v := r.Header[canonicalHeaderKey(name)]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// QueryValue returns the last value of the named query parameter, or "",
// as OpenSearch's RestUtils keeps the last of a repeated parameter (realmd
// sends only that one).
func (r *Request) QueryValue(name string) string {
	if v := r.Query[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// Restrict returns the part of r that in declares: what realmd sends an
// authenticator. Header names in r must be canonical, as in http.Header.
// Method and Path are never sent; SocketAddress goes with ClientAddress.
func (r *Request) Restrict(in Inputs) *Request {
	f := &Request{}
	if len(in.Headers) > 0 {
		f.Header = make(map[string][]string, len(in.Headers))
		for _, name := range in.Headers {
			name = canonicalHeaderKey(name)
			if v, ok := r.Header[name]; ok {
				f.Header[name] = v
			}
		}
	}
	if len(in.Query) > 0 {
		f.Query = make(map[string][]string, len(in.Query))
		for _, name := range in.Query {
			if v, ok := r.Query[name]; ok {
				f.Query[name] = v
			}
		}
	}
	if in.PeerCertificates {
		f.PeerCertificates = r.PeerCertificates
	}
	if in.ClientAddress {
		f.SocketAddress, f.ClientAddress = r.SocketAddress, r.ClientAddress
	}
	return f
}

// Credentials are what an authenticator found in a request.
type Credentials struct {
	// Username must not be empty (unless Continue is set): realmd treats
	// credentials without one as malformed, as OpenSearch does.
	Username string
	// Password is set by password authenticators such as basic.
	Password []byte
	// BackendRoles and Attributes are set by authenticators that verify the
	// credential themselves (tokens, certificates, trusted proxy headers).
	BackendRoles []string
	Attributes   map[string]string
	// Continue, when non-empty, means the handshake needs another round
	// (SPNEGO): realmd answers 401 with this WWW-Authenticate value.
	Continue string
	// CacheTTL is how long an identity built from these credentials may be
	// cached; 0 means not at all. realmd caps it by cache.ttl_minutes.
	CacheTTL time.Duration
}

// User is an authenticated identity.
type User struct {
	// Name must not be empty: realmd rejects a user without one.
	Name         string
	BackendRoles []string
	// SecurityRoles are roles granted directly (internal users'
	// opendistro_security_roles); role mapping always keeps them.
	SecurityRoles []string
	Attributes    map[string]string
	// LoginName is the name the client presented, before a backend renamed
	// the user (LDAP may answer with a DN).
	LoginName string
	// CacheTTL is how long this answer may be cached; 0 means not at all.
	CacheTTL time.Duration
}

// Grant is what an authorizer adds to a user.
type Grant struct {
	BackendRoles  []string
	SecurityRoles []string
	Attributes    map[string]string
	// CacheTTL is how long this answer may be cached; 0 means not at all.
	CacheTTL time.Duration
}

// Inputs lists the parts of a request an authenticator reads. realmd sends
// only these, and hashes only these for the identity cache key, so an
// authenticator must declare everything its answer depends on.
type Inputs struct {
	Headers          []string
	Query            []string
	PeerCertificates bool
	// ClientAddress covers both Request.SocketAddress and ClientAddress.
	// The identity cache keys these addresses by IP, not port (each
	// connection has a new port), so two requests from the same socket and
	// client IPs share an answer: a realm must not decide on the port.
	ClientAddress bool
}

// Challenge is what realmd answers when a challenging domain finds no
// credentials.
type Challenge struct {
	// WWWAuthenticate is the header value; empty means no header.
	WWWAuthenticate string
	Body            string
	ContentType     string
}

// Authenticator finds credentials in a request (an http_authenticator).
type Authenticator interface {
	// Inputs reports which parts of a request Extract reads. It is called
	// once, after the factory returns.
	Inputs() Inputs
	// Extract returns the credentials in r. A nil *Credentials with a nil
	// error means r carries none of this authenticator's credentials. Errors
	// are for credentials that are present but unreadable (wrap ErrMalformed)
	// and for technical failure (wrap ErrUnavailable when a dependency is down).
	Extract(ctx context.Context, r *Request) (*Credentials, error)
}

// Challenger is implemented by authenticators that can ask a client for
// credentials (basic, bearer tokens, SPNEGO).
type Challenger interface {
	Challenge() Challenge
}

// Backend verifies credentials (an authentication_backend).
type Backend interface {
	// Authenticate verifies c. A nil *User with a nil error means the
	// credentials were rejected: a wrong password or an unknown user is a
	// value, not an error.
	Authenticate(ctx context.Context, c *Credentials) (*User, error)
}

// Authorizer adds backend roles and attributes to an authenticated user (an
// authorization_backend). A user it knows nothing about gets an empty Grant.
type Authorizer interface {
	Authorize(ctx context.Context, u *User) (*Grant, error)
}

// Provisioner is implemented by instances that do I/O before serving (open
// connection pools, load keys). Provision is not called by `realmd check`.
// An error that is (or wraps) an sdk.Problem is reported at that Problem's
// key, so realmd names its line: return sdk.Problem{Key: "tokens_file",
// Message: ...} for a file that cannot be read.
type Provisioner interface {
	Provision(ctx context.Context) error
}

// Cleaner is implemented by instances that hold resources. Cleanup is called
// once when the instance stops: after a reload has replaced it, once the
// last call running on it has returned (never under a call of its own), or
// when the process exits. It must tolerate a failed or missing Provision.
type Cleaner interface {
	Cleanup() error
}

// Factory builds an instance from its config. It must be pure: read and
// validate cfg, record every problem with cfg.Problem and every warning with
// cfg.Warn, and do no I/O (that belongs in Provision). When cfg has problems
// the instance is discarded. It runs more than once per instance (realmd
// configures a new instance validate-only first, then for real), so it must
// not log what it finds wrong with cfg: cfg.Warn has realmd show it once.
type Factory[T any] func(cfg *Config) (T, error)

// Plugin describes what a plugin binary serves. The map keys are the type
// names used in config.yml.
type Plugin struct {
	Name           string
	Version        string
	Authenticators map[string]Factory[Authenticator]
	Backends       map[string]Factory[Backend]
	Authorizers    map[string]Factory[Authorizer]
}
