// Package basic is OpenSearch's basic http_authenticator and its internal user database (the internal/intern backend and authorizer).
package basic

import (
	"context"

	"github.com/realmd/realmd/sdk"
)

// Challenge is what a challenging basic domain answers when a request has no
// credentials, byte for byte as OpenSearch sends it.
var Challenge = sdk.Challenge{
	WWWAuthenticate: `Basic realm="OpenSearch Security"`,
	Body:            "Unauthorized",
	ContentType:     "text/plain; charset=UTF-8",
}

// Plugin serves the basic authenticator and the internal user database as
// authentication backend and authorizer, under both of OpenSearch's names
// (internal and intern).
func Plugin() sdk.Plugin {
	return sdk.Plugin{
		Name:    "basic",
		Version: "0.1.0",
		Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
			"basic": newAuthenticator,
		},
		Backends: map[string]sdk.Factory[sdk.Backend]{
			"internal": newBackend,
			"intern":   newBackend,
		},
		Authorizers: map[string]sdk.Factory[sdk.Authorizer]{
			"internal": newAuthorizer,
			"intern":   newAuthorizer,
		},
	}
}

// authenticator reads HTTP Basic credentials from the Authorization header.
// It has no configuration: OpenSearch's basic authenticator reads none, so
// every key is reported as unknown.
type authenticator struct{}

func newAuthenticator(*sdk.Config) (sdk.Authenticator, error) {
	return authenticator{}, nil
}

// Inputs declares the one header Extract reads.
func (authenticator) Inputs() sdk.Inputs {
	return sdk.Inputs{Headers: []string{"Authorization"}}
}

// Extract returns the user name and password of a Basic Authorization header.
// A header that is not Basic, or whose decoded value has no user name, gives
// no credentials (nil, nil), so a challenging domain answers with Challenge.
// Undecodable base64 and an empty password are errors wrapping
// sdk.ErrMalformed: the domain is skipped, as OpenSearch does.
func (authenticator) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	return parseAuthorization(r.HeaderValue("Authorization"))
}

// Challenge returns the basic challenge.
func (authenticator) Challenge() sdk.Challenge { return Challenge }

// Interface guards
var (
	_ sdk.Authenticator = authenticator{}
	_ sdk.Challenger    = authenticator{}
)
