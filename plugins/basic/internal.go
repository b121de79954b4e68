package basic

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/realmd/realmd/sdk"
)

// attrPrefix is how OpenSearch exposes an internal user's attributes.
const attrPrefix = "attr.internal."

// database is the internal user database shared by the backend and the
// authorizer.
type database struct {
	users map[string]*entry
	// dummy is verified for unknown users and users without a hash, so that
	// they cost the same work as a wrong password: the first user's hash
	// (same algorithm and parameters), or dummyHash when no user has one.
	dummy verifier
	// slots bounds concurrent hash verifications to the CPUs: hashing is
	// CPU-bound and Argon2 holds its memory while it runs.
	slots chan struct{}
	// verifications counts hash verifications, for tests.
	verifications atomic.Int64
}

type entry struct {
	user     User
	verifier verifier // nil: the user cannot log in
	attrs    map[string]string
}

func newDatabase(cfg *sdk.Config) *database {
	c := ReadConfig(cfg)
	db := &database{users: make(map[string]*entry, len(c.Users)), slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	for _, u := range c.Users {
		e := &entry{user: u}
		if u.Hash != "" {
			e.verifier, _ = parseHash(u.Hash) // a bad hash is a config problem already
		}
		if db.dummy == nil && e.verifier != nil {
			db.dummy = e.verifier
		}
		for k, v := range u.Attributes {
			if e.attrs == nil {
				e.attrs = make(map[string]string, len(u.Attributes))
			}
			e.attrs[attrPrefix+k] = v
		}
		db.users[u.Name] = e
	}
	if db.dummy == nil {
		db.dummy, _ = parseHash(dummyHash)
	}
	return db
}

// check verifies password against v, waiting for a free slot. It fails only
// when ctx ends first.
func (db *database) check(ctx context.Context, v verifier, password []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("verifying a password: %w: %w", sdk.ErrUnavailable, err)
	}
	select {
	case db.slots <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("waiting to verify a password: %w: %w", sdk.ErrUnavailable, ctx.Err())
	}
	defer func() { <-db.slots }()
	db.verifications.Add(1)
	return v.verify(password), nil
}

// backend verifies passwords against the internal users.
type backend struct{ db *database }

func newBackend(cfg *sdk.Config) (sdk.Backend, error) {
	return &backend{db: newDatabase(cfg)}, nil
}

// Authenticate accepts c when its user exists (case-sensitive) and the
// password, never empty, verifies against the user's hash. Everything else is rejected
// (nil, nil) after exactly one hash verification, so an unknown user and a
// wrong password cost the same. The user carries the credentials'
// attributes plus attr.internal.<key>, and may be cached until the config
// changes.
func (b *backend) Authenticate(ctx context.Context, c *sdk.Credentials) (*sdk.User, error) {
	e := b.db.users[c.Username]
	v := b.db.dummy
	if e != nil && e.verifier != nil {
		v = e.verifier
	}
	ok, err := b.db.check(ctx, v, c.Password)
	// An empty password is refused whatever the hash says, as OpenSearch's
	// AuthCredentials refuses it (found by review: credentials without a
	// password, from another domain's authenticator, were checked against
	// the hash). It is checked after the hash, so that it costs the same.
	if err != nil || !ok || e == nil || e.verifier == nil || len(c.Password) == 0 {
		return nil, err
	}
	var attrs map[string]string
	if len(c.Attributes)+len(e.attrs) > 0 {
		attrs = maps.Clone(c.Attributes)
		if attrs == nil {
			attrs = make(map[string]string, len(e.attrs))
		}
		maps.Copy(attrs, e.attrs)
	}
	return &sdk.User{
		Name:          c.Username,
		BackendRoles:  slices.Clone(e.user.BackendRoles),
		SecurityRoles: slices.Clone(e.user.SecurityRoles),
		Attributes:    attrs,
		LoginName:     c.Username,
		CacheTTL:      sdk.CacheForever,
	}, nil
}

// authorizer adds an internal user's roles and attributes to a user of the
// same name authenticated by any domain.
type authorizer struct{ db *database }

func newAuthorizer(cfg *sdk.Config) (sdk.Authorizer, error) {
	return &authorizer{db: newDatabase(cfg)}, nil
}

// Authorize grants the backend roles, security roles and attr.internal.*
// attributes of the internal user named u.Name; an unknown name gets an
// empty grant. Both answers hold until the config changes.
func (a *authorizer) Authorize(_ context.Context, u *sdk.User) (*sdk.Grant, error) {
	e := a.db.users[u.Name]
	if e == nil {
		return &sdk.Grant{CacheTTL: sdk.CacheForever}, nil
	}
	return &sdk.Grant{
		BackendRoles:  slices.Clone(e.user.BackendRoles),
		SecurityRoles: slices.Clone(e.user.SecurityRoles),
		Attributes:    maps.Clone(e.attrs),
		CacheTTL:      sdk.CacheForever,
	}, nil
}

// Interface guards
var (
	_ sdk.Backend    = (*backend)(nil)
	_ sdk.Authorizer = (*authorizer)(nil)
)
