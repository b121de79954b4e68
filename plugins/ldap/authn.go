package ldap

import (
	"context"
	"errors"
	"sync/atomic"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk"
)

// backend is the LDAP authentication backend: it finds the user with the
// search connection, then binds as the user's DN with the password on a
// connection of its own.
type backend struct {
	*realm
	// fakeBinds counts binds as the fake DN, done for unknown users so that
	// they cost what a wrong password costs.
	fakeBinds atomic.Int64
}

// Authenticate implements sdk.Backend. An unknown user, a wrong password
// and an empty password are rejected (nil, nil); a directory that cannot be
// reached is an error wrapping sdk.ErrUnavailable.
func (b *backend) Authenticate(ctx context.Context, c *sdk.Credentials) (*sdk.User, error) {
	if c == nil || c.Username == "" || len(c.Password) == 0 {
		return nil, nil // OpenSearch: "no bindDn or no Password"
	}
	dir, err := b.directory()
	if err != nil {
		return nil, err
	}
	var entry *goldap.Entry
	err = dir.withSession(ctx, func(s *session) error {
		var err error
		entry, err = s.findUser(c.Username, dir.attributes(b.cfg.UsernameAttribute))
		return err
	})
	if err != nil {
		return nil, err
	}
	dn, password := b.cfg.FakeLoginDN, b.cfg.FakeLoginPassword
	if entry != nil {
		dn, password = entry.DN, string(c.Password)
	} else {
		b.fakeBinds.Add(1)
	}
	ok, err := dir.bind(ctx, dn, password)
	if err != nil {
		return nil, err
	}
	if entry == nil || !ok {
		b.logger.Debug("ldap authentication rejected", "user", c.Username, "found", entry != nil)
		return nil, nil
	}
	name := entry.DN
	if attr := b.cfg.UsernameAttribute; attr != "" {
		if v := entry.GetEqualFoldAttributeValues(attr); len(v) > 0 && v[0] != "" {
			name = v[0]
		}
	}
	return &sdk.User{
		Name:       name,
		LoginName:  c.Username,
		Attributes: userAttributes(c.Username, entry, b.cfg.CustomAttrMaxLen, b.cfg.CustomAttrAllow),
		CacheTTL:   sdk.CacheForever,
	}, nil
}

// userSearchLimit is the size limit of a user search: findUser only needs
// to know whether a base holds zero, one or several entries.
const userSearchLimit = 2

// findUser searches the user bases for a login name (spec 4.3). In
// all-bases mode more than one distinct hit means not found; otherwise the
// first base with a hit wins and its first entry is taken.
func (s *session) findUser(name string, attrs []string) (*goldap.Entry, error) {
	cfg := s.d.cfg
	var found *goldap.Entry
	distinct := map[string]bool{}
	for _, b := range cfg.UserBases {
		// Only {0} is a parameter of a user search; {1} and {2} stay as written.
		// Two entries are enough to tell a user from an ambiguous name; a
		// search cut there (errSizeLimit) still holds the first entry.
		entries, err := s.search(b.Base, fillFilter(b.Filter, name, "{1}", "{2}"), attrs, userSearchLimit)
		if err != nil && !errors.Is(err, errSizeLimit) {
			return nil, err
		}
		for _, e := range entries {
			if e.DN == "" {
				continue
			}
			if !cfg.SearchAllBases {
				return e, nil
			}
			if k := dnKey(e.DN); !distinct[k] {
				distinct[k] = true
				found = e
			}
		}
	}
	if len(distinct) > 1 {
		s.d.logger.Debug("more than one ldap entry matches the user: treated as not found", "user", name, "entries", len(distinct))
		return nil, nil
	}
	return found, nil
}
