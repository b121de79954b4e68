// Package pipeline answers "who is this request?": an actor-style stage per
// ordered authentication domain, a parallel fan-out over the authorization
// backends, role mapping and a per-generation identity cache.
//
// The pipeline knows nothing of HTTP servers, files or processes: core hands
// it requests and plugin handles that satisfy the small interfaces below.
package pipeline

import (
	"context"
	"time"

	"github.com/realmd/realmd/sdk"
)

// Extractor finds credentials in a request: an http_authenticator instance.
// A nil *sdk.Credentials with a nil error means none were found.
type Extractor interface {
	Extract(ctx context.Context, r *sdk.Request) (*sdk.Credentials, string, error)
}

// Verifier verifies credentials: an authentication_backend instance. A nil
// *sdk.User with a nil error means the credentials were rejected.
type Verifier interface {
	Authenticate(ctx context.Context, c *sdk.Credentials) (*sdk.User, string, error)
}

// Granter adds roles to a user: an authorization_backend instance.
type Granter interface {
	Authorize(ctx context.Context, u *sdk.User) (*sdk.Grant, error)
}

// Domain is one enabled authc domain.
type Domain struct {
	Name  string
	Order int
	// Challenge is http_authenticator.challenge.
	Challenge bool
	// AuthenticatorType is the http_authenticator type, reported with the identity.
	AuthenticatorType string
	Authenticator     Extractor
	// Inputs are the request parts the authenticator reads.
	Inputs sdk.Inputs
	// ChallengeResponse is what the authenticator answers when it finds no
	// credentials; an empty WWWAuthenticate means it cannot challenge.
	ChallengeResponse sdk.Challenge
	// Backend verifies the credentials; nil is the noop backend, which
	// accepts the credentials as they are.
	Backend Verifier
	// BackendClass is the OpenSearch class the authentication_backend
	// stands for (ldap and ldap2 differ, intern and internal do not),
	// which user name failure limits (FailureLimit.Backend) name.
	BackendClass string
}

// AuthzDomain is one enabled authz domain.
type AuthzDomain struct {
	Name    string
	Backend Granter
}

// Config is everything a Pipeline needs. The pipeline does not modify it.
type Config struct {
	// Domains in ascending order.
	Domains []Domain
	Authz   []AuthzDomain
	// Anonymous is http.anonymous_auth_enabled (and not disabled by node setting).
	Anonymous bool
	Mapper    *RoleMapper
	// CacheTTL caps every identity's time in the cache; 0 disables caching.
	CacheTTL time.Duration
	// QueueSize bounds each stage's queue and its calls in flight.
	QueueSize int
	// Timeout bounds a request's trip through the stages (not a cache
	// hit); 0 means only the caller's context bounds it.
	Timeout time.Duration
	// Limits are the auth failure listeners, in config order.
	Limits []FailureLimit
	// Logger receives debug lines about each decision; nil discards them.
	Logger Logger
}

// Logger is the slice of hclog.Logger the pipeline uses. The pipeline
// builds a debug line's fields only when IsDebug reports true, asked each
// time, so that a level changed at run time counts.
type Logger interface {
	IsDebug() bool
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

// Outcome is how a request ended.
type Outcome int

const (
	// Authenticated: Result.Identity is set.
	Authenticated Outcome = iota
	// Challenged: answer 401 with Result.Challenge (possibly without a
	// WWW-Authenticate header).
	Challenged
	// Unavailable: no domain authenticated and at least one could not be
	// asked; answer 503 with Retry-After.
	Unavailable
	// Overloaded: a queue was full; answer 503 with Retry-After.
	Overloaded
)

func (o Outcome) String() string {
	switch o {
	case Authenticated:
		return "authenticated"
	case Challenged:
		return "challenged"
	case Unavailable:
		return "unavailable"
	case Overloaded:
		return "overloaded"
	}
	return "unknown"
}

// FinalFailureBody is OpenSearch's body for a 401 with no challenge.
const FinalFailureBody = "Authentication finally failed"

// Result is the pipeline's answer for one request.
type Result struct {
	Outcome   Outcome
	Identity  *Identity
	Challenge sdk.Challenge
	// Unavailable names the domains that could not be asked.
	Unavailable []string
	// Cached reports that the identity came from the cache.
	Cached bool
	// Blocked reports a client address blocked by a failure limit
	// (Outcome is Challenged with the final failure).
	Blocked bool
	// Closed reports that the pipeline was closed before the request
	// entered it (Outcome is Unavailable): a caller that holds a newer
	// pipeline should ask that one instead.
	Closed bool
}

// Identity is an authenticated user after authorization and role mapping.
type Identity struct {
	User sdk.User
	// Roles are the mapped security roles for this request's caller.
	Roles []string
	// Domain and Authenticator name the authc domain that authenticated the
	// user and its http_authenticator type.
	Domain        string
	Authenticator string
}

// Anonymous identity names, as OpenSearch spells them.
const (
	AnonymousUser        = "opendistro_security_anonymous"
	AnonymousBackendRole = "opendistro_security_anonymous_backendrole"
)
