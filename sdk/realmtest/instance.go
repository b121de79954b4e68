package realmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"time"

	"github.com/realmd/realmd/sdk"
)

// instance is one suite entry in a role-independent form.
type instance struct {
	role        sdk.Role
	typ         string
	dir         string // the config directory, Suite.Dir
	config      map[string]any
	invalid     map[string]any
	invalidKeys []string
	warnings    []string // expected warning keys of config
	challenge   *sdk.Challenge
	cases       []probe
}

// probe is one sample call: call makes it, check compares the answer with
// the expected one and returns "" or what differs.
type probe struct {
	name  string
	call  func(ctx context.Context, c *sdk.Client, in sdk.Inputs) (any, error)
	check func(got any, err error) string
}

func (s Suite) instances() []instance {
	var out []instance
	for _, a := range s.Authenticators {
		in := instance{role: sdk.RoleAuthenticator, typ: a.Type, config: a.Config, invalid: a.Invalid, invalidKeys: a.InvalidKeys, warnings: a.Warnings, challenge: a.Challenge}
		for _, c := range a.Cases {
			in.cases = append(in.cases, extractProbe(c))
		}
		out = append(out, in)
	}
	for _, b := range s.Backends {
		in := instance{role: sdk.RoleBackend, typ: b.Type, config: b.Config, invalid: b.Invalid, invalidKeys: b.InvalidKeys, warnings: b.Warnings}
		for _, c := range b.Cases {
			in.cases = append(in.cases, authenticateProbe(c))
		}
		out = append(out, in)
	}
	for _, a := range s.Authorizers {
		in := instance{role: sdk.RoleAuthorizer, typ: a.Type, config: a.Config, invalid: a.Invalid, invalidKeys: a.InvalidKeys, warnings: a.Warnings}
		for _, c := range a.Cases {
			in.cases = append(in.cases, authorizeProbe(c))
		}
		out = append(out, in)
	}
	for i := range out {
		out[i].dir = s.Dir
		if out[i].invalid == nil {
			out[i].invalid = maps.Clone(out[i].config)
			if out[i].invalid == nil {
				out[i].invalid = map[string]any{}
			}
			out[i].invalid["realmtest_unknown_key"] = true
			out[i].invalidKeys = []string{"realmtest_unknown_key"}
		}
	}
	return out
}

// configuration builds the Configure call for cfg.
func (in instance) configuration(cfg map[string]any, validateOnly bool) (sdk.Configuration, error) {
	raw := []byte("{}")
	if cfg != nil {
		var err error
		if raw, err = json.Marshal(cfg); err != nil {
			return sdk.Configuration{}, fmt.Errorf("encoding config: %w", err)
		}
	}
	return sdk.Configuration{
		Role:         in.role,
		Type:         in.typ,
		Instance:     "realmtest-" + in.typ,
		JSON:         raw,
		Dir:          in.dir,
		ValidateOnly: validateOnly,
	}, nil
}

// checkErr compares err with the expected sentinel; it returns "" when
// they agree and the answer should be compared.
func checkErr(want, err error) (msg string, done bool) {
	switch {
	case want != nil && err == nil:
		return fmt.Sprintf("got no error, want one wrapping %q", want), true
	case want != nil && !errors.Is(err, want):
		return fmt.Sprintf("got error %q, want one wrapping %q", err, want), true
	case want != nil:
		return "", true
	case err != nil:
		return fmt.Sprintf("unexpected error: %v", err), true
	}
	return "", false
}

func extractProbe(c ExtractCase) probe {
	return probe{
		name: c.Name,
		call: func(ctx context.Context, cl *sdk.Client, in sdk.Inputs) (any, error) {
			creds, _, err := cl.Extract(ctx, asRealmdSends(c.Request, in))
			return creds, err
		},
		check: func(got any, err error) string {
			if msg, done := checkErr(c.Err, err); done {
				return msg
			}
			if creds := got.(*sdk.Credentials); creds != nil && creds.Username == "" && creds.Continue == "" {
				return namelessCredentials
			}
			return diffCredentials(got.(*sdk.Credentials), c.Want)
		},
	}
}

// Answers realmd refuses whatever the case expects (pipeline/chain.go), as
// OpenSearch's AuthCredentials and User refuse an empty name.
const (
	namelessCredentials = "got credentials without a Username (and without Continue), which realmd refuses as malformed " +
		"on every call, skipping the domain: return nil for \"no credentials here\", " +
		"or an error wrapping sdk.ErrMalformed for credentials that are present but unreadable"
	namelessUser = "got a user without a Name, which realmd refuses on every call " +
		"(\"backend answered a user without a name; credentials rejected\"): " +
		"return nil to reject the credentials, or a user with a Name"
)

func authenticateProbe(c AuthenticateCase) probe {
	return probe{
		name: c.Name,
		call: func(ctx context.Context, cl *sdk.Client, _ sdk.Inputs) (any, error) {
			creds := c.Credentials
			u, _, err := cl.Authenticate(ctx, &creds)
			return u, err
		},
		check: func(got any, err error) string {
			if msg, done := checkErr(c.Err, err); done {
				return msg
			}
			if u := got.(*sdk.User); u != nil && u.Name == "" {
				return namelessUser
			}
			return diffUser(got.(*sdk.User), c.Want)
		},
	}
}

func authorizeProbe(c AuthorizeCase) probe {
	return probe{
		name: c.Name,
		call: func(ctx context.Context, cl *sdk.Client, _ sdk.Inputs) (any, error) {
			u := c.User
			return cl.Authorize(ctx, &u)
		},
		check: func(got any, err error) string {
			if msg, done := checkErr(c.Err, err); done {
				return msg
			}
			return diffGrant(got.(*sdk.Grant), &c.Want)
		},
	}
}

// asRealmdSends cuts r down to what realmd sends an authenticator that
// declared in: header names are made canonical, as net/http makes them.
func asRealmdSends(r sdk.Request, in sdk.Inputs) *sdk.Request {
	if r.Header != nil {
		h := make(map[string][]string, len(r.Header))
		for k, v := range r.Header {
			k = textproto.CanonicalMIMEHeaderKey(k)
			h[k] = append(h[k], v...)
		}
		r.Header = h
	}
	return r.Restrict(in)
}

// differ collects field differences; secrets are never printed.
type differ []string

func (d *differ) strings(field string, got, want []string) {
	if !slices.Equal(got, want) { // nil and empty are equal
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", field, got, want))
	}
}

func (d *differ) attrs(got, want map[string]string) {
	if !maps.Equal(got, want) {
		*d = append(*d, fmt.Sprintf("Attributes = %v, want %v", got, want))
	}
}

func (d *differ) str(field, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", field, got, want))
	}
}

func (d *differ) ttl(got, want time.Duration) {
	if want != AnyTTL && got != want {
		*d = append(*d, fmt.Sprintf("CacheTTL = %v, want %v", ttlString(got), ttlString(want)))
	}
}

func ttlString(d time.Duration) string {
	if d == sdk.CacheForever {
		return "CacheForever"
	}
	return d.String()
}

func (d differ) String() string {
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint([]string(d))
}

func diffCredentials(got, want *sdk.Credentials) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil:
		return "got no credentials, want some"
	case want == nil:
		return fmt.Sprintf("got credentials for %q, want none", got.Username)
	}
	var d differ
	d.str("Username", got.Username, want.Username)
	if !bytes.Equal(got.Password, want.Password) {
		d = append(d, "Password differs")
	}
	d.strings("BackendRoles", got.BackendRoles, want.BackendRoles)
	d.attrs(got.Attributes, want.Attributes)
	d.str("Continue", got.Continue, want.Continue)
	d.ttl(got.CacheTTL, want.CacheTTL)
	return d.String()
}

func diffUser(got, want *sdk.User) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil:
		return fmt.Sprintf("rejected, want user %q", want.Name)
	case want == nil:
		return fmt.Sprintf("got user %q, want rejected", got.Name)
	}
	var d differ
	d.str("Name", got.Name, want.Name)
	d.strings("BackendRoles", got.BackendRoles, want.BackendRoles)
	d.strings("SecurityRoles", got.SecurityRoles, want.SecurityRoles)
	d.attrs(got.Attributes, want.Attributes)
	d.str("LoginName", got.LoginName, want.LoginName)
	d.ttl(got.CacheTTL, want.CacheTTL)
	return d.String()
}

func diffGrant(got, want *sdk.Grant) string {
	if got == nil {
		return "got no grant"
	}
	var d differ
	d.strings("BackendRoles", got.BackendRoles, want.BackendRoles)
	d.strings("SecurityRoles", got.SecurityRoles, want.SecurityRoles)
	d.attrs(got.Attributes, want.Attributes)
	d.ttl(got.CacheTTL, want.CacheTTL)
	return d.String()
}
