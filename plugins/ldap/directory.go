package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// directory is a realm's access to LDAP: a pool of service-bound
// connections for searches, and a separate pool for user binds, so that a
// user's bind never changes the identity searches run under.
type directory struct {
	cfg    *Config
	logger hclog.Logger
	dialer *dialer
	search *pool
	binds  *pool

	mu       sync.Mutex
	contexts []string        // the root DSE's namingContexts, once read
	missing  map[string]bool // search bases found missing, warned about once
}

// newDirectory reads the TLS material and starts the pools. It does not
// need the directory to be up.
func newDirectory(cfg *Config, logger hclog.Logger) (*directory, error) {
	dl, err := newDialer(&cfg.Conn, logger)
	if err != nil {
		return nil, err
	}
	d := &directory{cfg: cfg, logger: logger, dialer: dl}
	check := validation(cfg.Conn.Pool.Validation, cfg.Conn.ResponseTimeout)
	d.search = newPool(cfg.Conn.Pool, func(ctx context.Context) (*conn, error) {
		return dl.open(ctx, d.serviceBind)
	}, check, logger.Named("search_pool"))
	d.binds = newPool(cfg.Conn.Pool, func(ctx context.Context) (*conn, error) {
		return dl.open(ctx, nil)
	}, check, logger.Named("bind_pool"))
	d.search.start()
	d.binds.start()
	return d, nil
}

func (d *directory) close() {
	d.search.close()
	d.binds.close()
}

// serviceBind gives a new search connection its identity: bind_dn and
// password, SASL EXTERNAL with the client certificate, or anonymous. Only
// the directory's answer to the bind is a *bindError (markDown's "check
// bind_dn and password"); a timeout, a closed connection or a TLS alert
// (a server that wants a client certificate) says nothing about the
// credentials and is logged as the server being unreachable.
func (d *directory) serviceBind(_ context.Context, c *conn) error {
	var err error
	switch {
	case d.cfg.Conn.BindDN != "":
		err = c.l.Bind(d.cfg.Conn.BindDN, d.cfg.Conn.Password)
	case d.cfg.Conn.ClientAuth:
		err = c.l.ExternalBind()
	default:
		return nil
	}
	switch {
	case err == nil:
		return nil
	case bindAnswer(err):
		return &bindError{err: err}
	}
	return fmt.Errorf("service bind: %w", err)
}

// bindAnswer reports whether err is the directory's own answer to a bind
// that refused it: a result code the server sent, not one of go-ldap's
// codes for a failure on this side (ErrorNetwork and up, below the 4096
// range), and not busy or unavailable, which say the server cannot serve
// now whatever the credentials.
func bindAnswer(err error) bool {
	var le *goldap.Error
	if !errors.As(err, &le) || le.ResultCode >= goldap.ErrorNetwork && le.ResultCode < goldap.LDAPResultSyncRefreshRequired {
		return false
	}
	return !goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable)
}

// session is a search connection checked out for one call.
type session struct {
	d      *directory
	ctx    context.Context
	c      *conn
	broken bool
}

// withSession runs fn on a search connection. When fn fails because a
// connection taken from the idle pool turned out closed by the directory
// (it restarted), it runs once more on a fresh one. Only such a failure is
// retried: a directory's own answer (a search cut at its size limit, too
// many roles) would be the same on any connection, and a timeout means a
// slow directory, which a second try only loads more (see staleRetry).
func (d *directory) withSession(ctx context.Context, fn func(*session) error) error {
	for attempt := 0; ; attempt++ {
		c, err := d.search.get(ctx)
		if err != nil {
			return err
		}
		s := &session{d: d, ctx: ctx, c: c}
		err = fn(s)
		broken := s.broken || c.broken(nil)
		retry := broken && c.staleRetry()
		d.search.put(c, broken)
		if errors.Is(err, sdk.ErrUnavailable) && retry && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// search runs a subtree search (base "" means every naming context) for at
// most limit entries per request. A missing base is an error wrapping
// errNoSuchBase, warned about once per base (see missingBase). More
// entries than limit in one request return those found so far with an error
// wrapping errSizeLimit; any other failure wraps ErrUnavailable.
func (s *session) search(base, filter string, attrs []string, limit int) ([]*goldap.Entry, error) {
	bases := []string{base}
	if strings.TrimSpace(base) == "" {
		var err error
		if bases, err = s.namingContexts(); err != nil {
			return nil, err
		}
	}
	var out []*goldap.Entry
	for _, b := range bases {
		entries, err := s.run(b, goldap.ScopeWholeSubtree, filter, attrs, limit)
		out = append(out, entries...)
		if errors.Is(err, errNoSuchBase) {
			return out, s.d.missingBase(b, err)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// lookup reads one entry; nil when it does not exist. A DN Java's
// LdapName reads is sent in RFC 4514 form with the values Java reads in
// it (see lookupDN); one with an empty RDN (cn=a,) names no entry.
func (s *session) lookup(dn string, attrs []string) (*goldap.Entry, error) {
	if n, ok := lookupDN(dn); ok {
		dn = n
	} else if isDN(dn) {
		return nil, nil
	}
	entries, err := s.run(dn, goldap.ScopeBaseObject, "(objectClass=*)", attrs, 1)
	if errors.Is(err, errNoSuchBase) {
		return nil, nil
	}
	if err != nil && !errors.Is(err, errSizeLimit) || len(entries) == 0 {
		return nil, err
	}
	return entries[0], nil
}

// run is one search request for at most limit entries (0: no limit) and
// the time left until the call's deadline. A base the directory does not
// hold is an error wrapping errNoSuchBase. Search result references are
// not chased and a referral answer counts as no result (see README,
// follow_referrals).
func (s *session) run(base string, scope int, filter string, attrs []string, limit int) ([]*goldap.Entry, error) {
	rt := s.d.cfg.Conn.ResponseTimeout
	req := goldap.NewSearchRequest(base, scope, goldap.DerefAlways, limit, timeLimit(deadline(s.ctx, rt)), false, filter, attrs, nil)
	// Against a directory that ignores the size limit, go-ldap stops
	// reading entries after it (ErrSizeLimitExceeded), so a huge answer
	// never piles up in memory.
	req.EnforceSizeLimit = true
	var res *goldap.SearchResult
	err := s.c.do(s.ctx, rt, func(l *goldap.Conn) error {
		var err error
		res, err = l.Search(req)
		return err
	})
	if s.c.broken(err) {
		s.broken = true // also after go-ldap's own cut: entries are still in flight
	}
	switch {
	case err == nil:
		return res.Entries, nil
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return nil, fmt.Errorf("ldap search %s in %q on %s: %w", filter, base, s.c.host.Raw, errNoSuchBase)
	case goldap.IsErrorWithCode(err, goldap.LDAPResultReferral):
		return nil, nil
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) || errors.Is(err, goldap.ErrSizeLimitExceeded):
		var entries []*goldap.Entry
		if res != nil {
			entries = res.Entries[:min(len(res.Entries), limit)]
		}
		return entries, fmt.Errorf("ldap search %s in %q on %s: %w", filter, base, s.c.host.Raw, errSizeLimit)
	}
	return nil, fmt.Errorf("%w: ldap search %s in %q on %s: %w", sdk.ErrUnavailable, filter, base, s.c.host.Raw, err)
}

// missingBase is the error of a search whose base does not exist: err,
// with the config keys that name the base. The first time for a base it
// logs a warning naming them: every login (user bases) or role search
// (role bases) there fails until the config or the directory is fixed,
// and the pipeline's own line only says that the domain failed.
func (d *directory) missingBase(base string, err error) error {
	var keys []string
	for _, group := range []struct {
		name  string
		bases []SearchBase
	}{{"users", d.cfg.UserBases}, {"roles", d.cfg.RoleBases}} {
		for _, b := range group.bases {
			if b.Base == base {
				k, _ := baseKeys(b, group.name)
				keys = append(keys, k)
			}
		}
	}
	key := strings.Join(keys, ", ")
	if key == "" {
		key = "a naming context of the root DSE" // base "" searches every one
	}
	d.mu.Lock()
	warned := d.missing[base]
	if d.missing == nil {
		d.missing = map[string]bool{}
	}
	d.missing[base] = true
	d.mu.Unlock()
	if !warned {
		d.logger.Warn("ldap search base does not exist", "key", key, "base", base,
			"hint", "correct the DN in the config, or create the entry in the directory; until then searches there fail")
	}
	return fmt.Errorf("%s: %w", key, err)
}

// namingContexts lists the directory's naming contexts, for searches with
// an empty base: OpenLDAP refuses a subtree search from the empty DN.
func (s *session) namingContexts() ([]string, error) {
	s.d.mu.Lock()
	known := s.d.contexts
	s.d.mu.Unlock()
	if known != nil {
		return known, nil
	}
	root, err := s.lookup("", []string{"namingContexts"})
	if err != nil {
		return nil, err
	}
	contexts := []string{""}
	if root != nil {
		if v := root.GetEqualFoldAttributeValues("namingContexts"); len(v) > 0 {
			contexts = v
		}
	}
	s.d.mu.Lock()
	s.d.contexts = contexts
	s.d.mu.Unlock()
	return contexts, nil
}

// bind checks a password on a connection of the bind pool. false with a
// nil error means the directory rejected it.
func (d *directory) bind(ctx context.Context, dn, password string) (bool, error) {
	for attempt := 0; ; attempt++ {
		c, err := d.binds.get(ctx)
		if err != nil {
			return false, err
		}
		err = c.do(ctx, d.cfg.Conn.ResponseTimeout, func(l *goldap.Conn) error { return l.Bind(dn, password) })
		broken := c.broken(err)
		retry := broken && c.staleRetry()
		d.binds.put(c, broken)
		switch {
		case err == nil:
			return true, nil
		case !broken && rejected(err):
			return false, nil
		case retry && attempt == 0 && ctx.Err() == nil:
			continue
		}
		return false, fmt.Errorf("%w: ldap bind on %s: %w", sdk.ErrUnavailable, c.host.Raw, err)
	}
}

// rejected reports whether a bind error is the directory saying no to these
// credentials, rather than a failure.
func rejected(err error) bool {
	return goldap.IsErrorAnyOf(err,
		goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication,
		goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultInsufficientAccessRights,
		goldap.LDAPResultNoSuchObject, goldap.LDAPResultInvalidDNSyntax,
		goldap.LDAPResultConstraintViolation, goldap.ErrorEmptyPassword)
}

// attributes returns custom_return_attributes plus extra, without
// duplicates: the realm asks for the attributes it needs by name, so that
// operational ones such as OpenLDAP's memberOf come back with "*". It is
// for the user entry, whose attributes become attr.ldap.*.
func (d *directory) attributes(extra ...string) []string {
	return withAttributes(d.cfg.ReturnAttributes, extra...)
}

// noAttributes asks a search for no attributes at all (RFC 4511 4.5.1.8):
// an empty list would mean all user attributes.
const noAttributes = "1.1"

// roleAttributes is what a role search or role read asks for: the role
// name and the attributes nested resolution follows, never
// custom_return_attributes. With its default "*" every role entry came back
// whole, every member of a large group included, to be thrown away.
func (d *directory) roleAttributes() []string {
	out := withAttributes(nil, append([]string{d.cfg.RoleName}, d.cfg.UserRoleNames...)...)
	if len(out) == 0 {
		return []string{noAttributes}
	}
	return out
}

// withAttributes returns base plus extra, without duplicates and without
// "dn" (which is not an attribute).
func withAttributes(base []string, extra ...string) []string {
	out := append([]string(nil), base...)
	for _, e := range extra {
		if e == "" || strings.EqualFold(e, "dn") {
			continue
		}
		dup := false
		for _, a := range out {
			dup = dup || strings.EqualFold(a, e)
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}
