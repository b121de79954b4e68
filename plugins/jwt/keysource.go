package jwt

import (
	"context"
	"errors"
	"strings"

	"github.com/realmd/realmd/plugins/jwks"
)

// staticKeys are the signing_key entries, tried in order.
type staticKeys []any

func (s staticKeys) candidates(_ context.Context, h header) ([]any, error) {
	if len(s) == 0 {
		return nil, reject("no signing key is configured")
	}
	var fit []any
	var why []string
	for _, k := range s {
		if err := jwks.Fits(k, h.Alg); err != nil {
			why = append(why, err.Error())
			continue
		}
		fit = append(fit, k)
	}
	if len(fit) == 0 {
		return nil, reject("no configured key admits %s: %s", h.Alg, strings.Join(why, "; "))
	}
	return fit, nil
}

func (staticKeys) retry(context.Context, header) ([]any, error) { return nil, nil }

// jwksKeys are keys from a provider's key set (JWKS mode).
type jwksKeys struct{ set *jwks.Set }

func (j jwksKeys) candidates(ctx context.Context, h header) ([]any, error) {
	kid, err := jwks.UnescapeKID(h.KID)
	if err != nil {
		return nil, reject("kid: %v", err)
	}
	k, err := j.set.Key(ctx, kid)
	if err != nil {
		return nil, lookupError(err)
	}
	return usable(k, h.Alg)
}

// retry refreshes the set once for a token without kid, in case the
// provider rotated its only key (as OpenSearch does). A kid that unescapes
// to "" (a lone backslash) is no kid, as in OpenSearch's JwtVerifier, which
// asks after unescaping.
func (j jwksKeys) retry(ctx context.Context, h header) ([]any, error) {
	if kid, err := jwks.UnescapeKID(h.KID); err != nil || kid != "" {
		return nil, nil
	}
	k, err := j.set.KeyAfterRefresh(ctx, "")
	if err != nil {
		return nil, lookupError(err)
	}
	return usable(k, h.Alg)
}

// usable refuses a key whose JWK alg differs from the token's, or whose
// type does not admit the token's algorithm.
func usable(k *jwks.Key, alg string) ([]any, error) {
	if k.Algorithm != "" && k.Algorithm != alg {
		return nil, reject("token algorithm %s differs from the key's %s", alg, k.Algorithm)
	}
	if err := jwks.Fits(k.Public, alg); err != nil {
		return nil, reject("%v", err)
	}
	return []any{k.Public}, nil
}

// lookupError turns a key-set miss into a rejection; unavailability stays an
// error.
func lookupError(err error) error {
	if errors.Is(err, jwks.ErrUnknownKID) || errors.Is(err, jwks.ErrKIDRequired) || errors.Is(err, jwks.ErrUnusableKey) {
		return reject("%v", err)
	}
	return err
}
