// Command apikey is the third-party plugin of sdk/README.md, built by the
// end-to-end test that loads plugins from plugin_directory.
package main

import (
	"context"

	"github.com/realmd/realmd/sdk"
)

// apiKey finds X-Api-Key and maps it to a service account.
type apiKey struct{ keys map[string]string }

func (a *apiKey) Inputs() sdk.Inputs { return sdk.Inputs{Headers: []string{"X-Api-Key"}} }

func (a *apiKey) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	user, ok := a.keys[r.HeaderValue("X-Api-Key")]
	if !ok {
		return nil, nil // no credentials of ours: the next domain is asked
	}
	return &sdk.Credentials{Username: user, BackendRoles: []string{"service"}, CacheTTL: sdk.CacheForever}, nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Name:    "apikey",
		Version: "1.0.0",
		Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
			"apikey": func(cfg *sdk.Config) (sdk.Authenticator, error) {
				keys := map[string]string{}
				for _, k := range cfg.Children("keys") {
					keys[cfg.String("keys."+k, "")] = k
				}
				return &apiKey{keys: keys}, nil // cfg reports unknown keys itself
			},
		},
	})
}
