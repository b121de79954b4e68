// Package jwt is OpenSearch's jwt http_authenticator: it verifies a signed
// JSON Web Token with static keys or a provider's key set and reads the user
// from its claims.
package jwt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/plugins/jwks"
	"github.com/realmd/realmd/sdk"
)

// ChallengeValue is the WWW-Authenticate value of a challenging jwt domain.
const ChallengeValue = `Bearer realm="OpenSearch Security"`

// Plugin serves the jwt authenticator.
func Plugin() sdk.Plugin {
	return sdk.Plugin{
		Name:    "jwt",
		Version: "0.1.0",
		Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
			"jwt": func(cfg *sdk.Config) (sdk.Authenticator, error) {
				return New(ReadConfig(cfg), cfg.Logger()), nil
			},
		},
	}
}

// Authenticator finds and verifies a JWT in a request. Static keys are ready
// at once; in JWKS mode Provision must run before Extract.
type Authenticator struct {
	cfg    Config
	logger hclog.Logger
	keys   keySource
	set    *jwks.Set
	now    func() time.Time
}

// Interface guards
var (
	_ sdk.Authenticator = (*Authenticator)(nil)
	_ sdk.Challenger    = (*Authenticator)(nil)
	_ sdk.Provisioner   = (*Authenticator)(nil)
	_ sdk.Cleaner       = (*Authenticator)(nil)
)

// New returns an Authenticator for cfg. It does no I/O.
func New(cfg Config, logger hclog.Logger) *Authenticator {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	a := &Authenticator{cfg: cfg, logger: logger, now: time.Now}
	if !cfg.jwksMode() {
		a.keys = staticKeys(cfg.SigningKeys)
	}
	return a
}

// Provision builds the key set of JWKS mode (reading TLS files when jwks.*
// enables TLS); the set itself is fetched lazily by the first token. It does
// nothing in static mode.
func (a *Authenticator) Provision(context.Context) error {
	if !a.cfg.jwksMode() {
		return nil
	}
	tlsConf, err := a.cfg.JWKSTLS.Config()
	if err != nil {
		return err // an sdk.Problem at its jwks.* key
	}
	opts := a.cfg.JWKS
	if opts.Client == nil {
		opts.Client = jwks.NewHTTPClient(tlsConf, opts.RequestTimeout)
	}
	if opts.Logger == nil {
		opts.Logger = a.logger
	}
	set, err := jwks.New(opts)
	if err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	a.set, a.keys = set, jwksKeys{set: set}
	return nil
}

// Cleanup stops a key-set refresh in progress. It tolerates a missing
// Provision.
func (a *Authenticator) Cleanup() error {
	if a.set != nil {
		a.set.Close()
	}
	return nil
}

// Inputs are the token header and, when configured, the URL parameter.
func (a *Authenticator) Inputs() sdk.Inputs {
	in := sdk.Inputs{Headers: []string{a.cfg.Header}}
	if a.cfg.URLParameter != "" {
		in.Query = []string{a.cfg.URLParameter}
	}
	return in
}

// Challenge is `Bearer realm="OpenSearch Security"` with an empty body.
func (a *Authenticator) Challenge() sdk.Challenge {
	return sdk.Challenge{WWWAuthenticate: ChallengeValue}
}

// Extract returns the identity of a valid token in r. A missing token and
// a refused one (bad signature, expired, wrong audience or issuer,
// malformed, no subject) are "no credentials", as in OpenSearch; the reason
// is logged at debug level. An unreachable or broken key set, or a key-set
// refresh that cannot be waited for (queue timeout, ctx), is an error
// wrapping sdk.ErrUnavailable.
func (a *Authenticator) Extract(ctx context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	token := ExtractToken(r, a.cfg.Header, a.cfg.URLParameter)
	if token == "" {
		return nil, nil
	}
	c, err := a.Authenticate(ctx, token)
	if errors.Is(err, errRejected) {
		a.logger.Debug("jwt refused", "reason", err.Error())
		return nil, nil
	}
	return c, err
}

// Authenticate verifies token and reads the identity from its claims. A
// refused token is an error for which IsRejected is true.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*sdk.Credentials, error) {
	if a.keys == nil {
		return nil, fmt.Errorf("%w: key set not provisioned", sdk.ErrNotConfigured)
	}
	v, err := verify(ctx, token, a.cfg.MaxTokenSize, a.keys, !a.cfg.jwksMode())
	if err != nil {
		return nil, err
	}
	claims := v.claims
	a.cfg.Claims.omitEmpty(claims)
	a.cfg.Claims.numericSubject(claims)
	now := a.now()
	exp, err := a.cfg.Claims.check(claims, now)
	if err != nil {
		return nil, err
	}
	user := a.cfg.Claims.subject(claims)
	if user == "" {
		return nil, reject("no subject")
	}
	ttl := NoExpCacheTTL
	if !exp.IsZero() {
		ttl = max(exp.Sub(now), 0)
	}
	return &sdk.Credentials{
		Username:     user,
		BackendRoles: a.cfg.Claims.roles(claims),
		Attributes:   a.cfg.Claims.attributes(claims, v.payload),
		CacheTTL:     ttl,
	}, nil
}

// IsRejected reports whether err from Authenticate means the token was
// refused (as opposed to a technical failure).
func IsRejected(err error) bool { return errors.Is(err, errRejected) }
