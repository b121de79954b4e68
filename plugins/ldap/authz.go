package ldap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk"
)

// authorizer is the LDAP authorization backend: it adds the user's groups
// as backend roles (spec 4.4).
type authorizer struct {
	*realm
}

// Authorize implements sdk.Authorizer. A user the directory does not know,
// or one matched by skip_users, gets an empty grant; a directory that
// cannot be reached is an error wrapping sdk.ErrUnavailable.
func (a *authorizer) Authorize(ctx context.Context, u *sdk.User) (*sdk.Grant, error) {
	grant := &sdk.Grant{CacheTTL: sdk.CacheForever}
	if u == nil {
		return grant, nil
	}
	login := u.LoginName
	if login == "" {
		login = u.Name
	}
	dn := u.Attributes[AttrDN] // set by the LDAP authentication backend
	authenticated := dn
	if authenticated == "" {
		authenticated = u.Name
	}
	if a.cfg.SkipUsers.Match(login) || a.cfg.SkipUsers.Match(authenticated) {
		a.logger.Debug("skip_users: no ldap roles", "user", authenticated)
		return grant, nil
	}
	dir, err := a.directory()
	if err != nil {
		return nil, err
	}
	err = dir.withSession(ctx, func(s *session) error {
		var err error
		grant.BackendRoles, err = s.roles(u.Name, dn, login, u.Attributes)
		return err
	})
	if err != nil {
		return nil, err
	}
	return grant, nil
}

// roleRef is a role DN found so far.
type roleRef struct {
	dn     string        // as the directory or the attribute wrote it
	bases  uint64        // role bases it was found in: its parents are searched there
	entry  *goldap.Entry // the role's entry, once read
	looked bool          // entry was looked up (and may be missing)
}

// roleSet keeps role DNs in the order found, without duplicates.
type roleSet struct {
	byKey map[string]*roleRef
	list  []*roleRef
}

// add records dn found in bases; it reports the role when it is new or
// gained bases, so that its parents must be searched (again).
func (rs *roleSet) add(dn string, bases uint64, e *goldap.Entry) (*roleRef, bool) {
	k := dnKey(dn)
	if r, ok := rs.byKey[k]; ok {
		if r.entry == nil && e != nil {
			r.entry, r.looked = e, true
		}
		grew := bases&^r.bases != 0
		r.bases |= bases
		return r, grew
	}
	r := &roleRef{dn: dn, bases: bases, entry: e, looked: e != nil}
	rs.byKey[k] = r
	rs.list = append(rs.list, r)
	return r, true
}

// roles runs the role algorithm for one user and returns the role names,
// sorted. A user without an entry has none, except one with the DN of an
// LDAP authentication backend (dn, from ldap.dn): see authenticatedEntry.
func (s *session) roles(name, dn, login string, attrs map[string]string) ([]string, error) {
	cfg := s.d.cfg
	userAttrs := s.d.attributes(append([]string{cfg.UserRoleAttribute}, cfg.UserRoleNames...)...)
	var entry *goldap.Entry
	var err error
	switch {
	case dn != "":
		entry, err = s.lookup(dn, userAttrs)
		if err == nil && entry == nil {
			entry = s.authenticatedEntry(dn, attrs)
		}
	case isDN(name):
		entry, err = s.lookup(name, userAttrs)
		if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidDNSyntax) {
			// A user name from another realm ("foo=bar") that parses as a
			// DN here but not in the directory: no entry, as for an unknown
			// DN, not an outage logged on every request.
			entry, err = nil, nil
		}
	default:
		entry, err = s.findUser(name, userAttrs)
	}
	if err != nil {
		return nil, err
	}
	if entry == nil {
		s.d.logger.Debug("no ldap entry for the user: no ldap roles", "user", name)
		return nil, nil
	}
	all := ^uint64(0) >> (64 - len(cfg.RoleBases))
	found := &roleSet{byKey: map[string]*roleRef{}}
	names := map[string]bool{}
	for _, attr := range cfg.UserRoleNames {
		for _, v := range entry.GetEqualFoldAttributeValues(attr) {
			if isDN(v) {
				found.add(v, all, nil)
			} else if v != "" {
				names[v] = true // a non-DN value is a role name as is
			}
		}
	}
	two := "2" // OpenSearch's substitute for a missing {2}
	if attr := cfg.UserRoleAttribute; attr != "" {
		if v := entry.GetEqualFoldAttributeValues(attr); len(v) > 0 {
			two = v[0]
		}
	}
	roleAttrs := s.d.roleAttributes()
	if cfg.RoleSearchEnabled {
		for i, b := range cfg.RoleBases {
			hits, err := s.roleSearch(b.Base, fillFilter(b.Filter, entry.DN, login, two), roleAttrs)
			if err != nil {
				return nil, err
			}
			for _, h := range hits {
				found.add(h.DN, 1<<i, h)
			}
		}
	}
	if err := s.capRoles(found); err != nil {
		return nil, err
	}
	if cfg.ResolveNestedRoles {
		if err := s.resolveNested(found, all, two, roleAttrs); err != nil {
			return nil, err
		}
	}
	for _, r := range found.list {
		name, err := s.roleName(r, roleAttrs)
		if err != nil {
			return nil, err
		}
		if name != "" && !cfg.ExcludeRoles.Match(name) {
			names[name] = true
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// authenticatedEntry stands for the entry of a user whose DN an LDAP
// authentication backend found (ldap.dn) but this directory cannot read
// (another directory, or an entry the search identity may not read).
// OpenSearch takes that backend's entry and does not read it again, so the
// role search still runs with {0} the DN. The entry has no userrolename
// attributes, so no roles come from them; {2} is the user's
// attr.ldap.<userroleattribute> from that backend when it exported it, as
// OpenSearch reads that entry's attribute, else the literal 2.
func (s *session) authenticatedEntry(dn string, attrs map[string]string) *goldap.Entry {
	e := &goldap.Entry{DN: dn}
	if a := s.d.cfg.UserRoleAttribute; a != "" {
		for k, v := range attrs {
			if name, ok := strings.CutPrefix(k, AttrPrefix); ok && strings.EqualFold(name, a) {
				e.Attributes = []*goldap.EntryAttribute{{Name: name, Values: []string{v}}}
				break
			}
		}
	}
	s.d.logger.Debug("the user's ldap entry cannot be read here: searching roles with the DN from ldap.dn", "dn", dn)
	return e
}

// resolveNested adds the groups the found roles are members of, level by
// level up to max_nested_depth. Every role's parents are searched once per
// base, so a cycle ends. Roles matching nested_role_filter are kept but not
// traversed.
func (s *session) resolveNested(found *roleSet, all uint64, two string, attrs []string) error {
	cfg := s.d.cfg
	searched := map[*roleRef]uint64{} // bases searched for a role's parents
	expanded := map[*roleRef]bool{}   // the role's own userrolename values read
	frontier := slices.Clone(found.list)
	for depth := 0; depth < max(cfg.MaxNestedDepth, 1) && len(frontier) > 0; depth++ {
		var next []*roleRef
		grow := func(dn string, bases uint64, e *goldap.Entry) {
			if r, changed := found.add(dn, bases, e); changed {
				next = append(next, r)
			}
		}
		for _, r := range frontier {
			if cfg.NestedRoleFilter.Match(r.dn) {
				continue
			}
			if !expanded[r] {
				expanded[r] = true
				e, err := s.entryOf(r, attrs)
				if err != nil {
					return err
				}
				for _, attr := range cfg.UserRoleNames {
					for _, v := range attrValues(e, attr) {
						if isDN(v) {
							grow(v, all, nil)
						}
					}
				}
				if err := s.capRoles(found); err != nil {
					return err
				}
			}
			todo := r.bases &^ searched[r]
			searched[r] |= todo
			if !cfg.RoleSearchEnabled {
				continue
			}
			for i, b := range cfg.RoleBases {
				if todo&(1<<i) == 0 {
					continue
				}
				hits, err := s.roleSearch(b.Base, fillFilter(b.Filter, r.dn, r.dn, two), attrs)
				if err != nil {
					return err
				}
				for _, h := range hits {
					grow(h.DN, 1<<i, h)
				}
				if err := s.capRoles(found); err != nil {
					return err
				}
			}
		}
		frontier = next
	}
	return nil
}

// roleSearch is one role search, for at most MaxRoleEntries entries. More
// is errTooManyRoles: a list cut at the limit would grant or drop roles by
// the directory's order, so the user gets no LDAP roles and the error is
// logged (as any authorizer error is) instead.
func (s *session) roleSearch(base, filter string, attrs []string) ([]*goldap.Entry, error) {
	n := s.d.cfg.MaxRoleEntries
	hits, err := s.search(base, filter, attrs, n)
	if errors.Is(err, errSizeLimit) {
		return nil, fmt.Errorf("%w: more than %d entries for one role search; no ldap roles rather than a partial list: %w", errTooManyRoles, n, err)
	}
	return hits, err
}

// capRoles fails with errTooManyRoles once the role DNs found for one user,
// over every search and nesting level, are more than MaxRoleEntries.
func (s *session) capRoles(found *roleSet) error {
	if n := s.d.cfg.MaxRoleEntries; n > 0 && len(found.list) > n {
		return fmt.Errorf("%w: more than %d role entries for one user; no ldap roles rather than a partial list", errTooManyRoles, n)
	}
	return nil
}

// entryOf returns a role's entry, reading it once; nil if it does not exist.
func (s *session) entryOf(r *roleRef, attrs []string) (*goldap.Entry, error) {
	if !r.looked {
		e, err := s.lookup(r.dn, attrs)
		if err != nil {
			return nil, err
		}
		r.entry, r.looked = e, true
	}
	return r.entry, nil
}

// roleName is the role's rolename attribute (first value), or its DN for
// rolename: dn; "" when the role has no such entry or attribute.
func (s *session) roleName(r *roleRef, attrs []string) (string, error) {
	if strings.EqualFold(s.d.cfg.RoleName, "dn") {
		return r.dn, nil
	}
	e, err := s.entryOf(r, attrs)
	if err != nil {
		return "", err
	}
	if v := attrValues(e, s.d.cfg.RoleName); len(v) > 0 {
		return v[0], nil
	}
	return "", nil
}

func attrValues(e *goldap.Entry, attr string) []string {
	if e == nil {
		return nil
	}
	return e.GetEqualFoldAttributeValues(attr)
}
