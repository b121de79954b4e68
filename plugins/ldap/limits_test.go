package ldap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk"
)

// floodServer is a directory that ignores size limits: it answers every
// search with n entries and every bind with invalidCredentials, and
// records the limits each search asked for.
type floodServer struct {
	n int

	mu       sync.Mutex
	searches []searchLimits
}

type searchLimits struct {
	base              string
	sizeLimit, tLimit int64
	attributes        []string
}

func startFloodServer(t *testing.T, n int) (*floodServer, string) {
	f := &floodServer{n: n}
	return f, serveFake(t, f.answer)
}

// serveFake is a directory on a loopback listener, until the test ends:
// answer gives the packets that answer each request. It returns the
// listener's address.
func serveFake(t *testing.T, answer func(id any, op *ber.Packet) []*ber.Packet) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns sync.Map
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			wg.Go(func() { serveConn(c, answer) })
		}
	}()
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	return l.Addr().String()
}

// serveConn reads requests from c and writes answer's packets for each; no
// packets (an unbind, or a test dropping the connection) closes it.
func serveConn(c net.Conn, answer func(id any, op *ber.Packet) []*ber.Packet) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		out := answer(p.Children[0].Value, p.Children[1])
		if len(out) == 0 {
			return
		}
		for _, out := range out {
			if _, err := c.Write(out.Bytes()); err != nil {
				return
			}
		}
	}
}

func (f *floodServer) answer(id any, op *ber.Packet) []*ber.Packet {
	switch op.Tag {
	case goldap.ApplicationBindRequest:
		return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultInvalidCredentials)}
	case goldap.ApplicationSearchRequest:
		base, _ := op.Children[0].Value.(string)
		size, _ := op.Children[3].Value.(int64)
		limit, _ := op.Children[4].Value.(int64)
		var attrs []string
		for _, a := range op.Children[7].Children {
			attrs = append(attrs, a.Value.(string))
		}
		f.mu.Lock()
		f.searches = append(f.searches, searchLimits{base: base, sizeLimit: size, tLimit: limit, attributes: attrs})
		f.mu.Unlock()
		var out []*ber.Packet
		for i := range f.n {
			out = append(out, searchEntry(id, fmt.Sprintf("cn=e%d,%s", i, base)))
		}
		return append(out, response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess))
	}
	return nil
}

func (f *floodServer) recorded() []searchLimits {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.searches)
}

func envelope(id any) *ber.Packet {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	return env
}

func response(id any, tag ber.Tag, code uint16) *ber.Packet {
	env := envelope(id)
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "Response")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(code), "resultCode"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
	env.AppendChild(r)
	return env
}

func searchEntry(id any, dn string) *ber.Packet {
	env := envelope(id)
	e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "Entry")
	e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "objectName"))
	attrs := ber.NewSequence("attributes")
	a := ber.NewSequence("attribute")
	a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "cn", "type"))
	vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
	vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, strings.TrimPrefix(strings.SplitN(dn, ",", 2)[0], "cn="), "value"))
	a.AppendChild(vals)
	attrs.AppendChild(a)
	e.AppendChild(attrs)
	env.AppendChild(e)
	return env
}

// The user search needs two entries to tell one user from an ambiguous
// name, and every search tells the directory how long realmd will wait.
func TestSearch_UserSearchAsksForTwoEntriesAndATimeLimit(t *testing.T) {
	f, addr := startFloodServer(t, 500)
	b := newTestBackend(t, map[string]any{"hosts": addr, "userbase": "ou=people,o=TEST", "usersearch": "(uid={0})"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	u, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
	if err != nil || u != nil {
		t.Fatalf("an ambiguous name: %v, %v; want a rejection", u, err)
	}
	got := f.recorded()
	if len(got) != 1 {
		t.Fatalf("searches %+v, want the one user search", got)
	}
	if got[0].sizeLimit != 2 {
		t.Errorf("user search size limit %d, want 2", got[0].sizeLimit)
	}
	if got[0].tLimit < 1 || got[0].tLimit > int64(generous.Seconds()) {
		t.Errorf("user search time limit %ds, want 1..%.0f from the call's deadline", got[0].tLimit, generous.Seconds())
	}
}

// A directory that ignores the size limit must not make realmd read every
// entry it sends, and a role list cut short is an error, never a grant.
func TestSearch_RoleSearchOverTheCapIsAnError(t *testing.T) {
	f, addr := startFloodServer(t, 50)
	a := newTestAuthorizer(t, map[string]any{"hosts": addr, "rolebase": "ou=groups,o=TEST", "rolename": "dn", "max_role_entries": 10}, nil)
	g, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN})
	if err == nil || !strings.Contains(err.Error(), "more than 10") {
		t.Fatalf("got %v, %v; want an error naming the cap of 10", g, err)
	}
	if errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("a directory answering too much is not down: %v", err)
	}
	var role *searchLimits
	for _, s := range f.recorded() {
		if s.base == "ou=groups,o=TEST" {
			role = &s
		}
	}
	if role == nil || role.sizeLimit != 10 {
		t.Fatalf("role search limits %+v, want size limit 10", role)
	}
}

// With a real directory: the cap holds for one search (slapd stops at the
// size limit realmd sends) and for roles gathered over nested searches
// that each stay under it; a user search that slapd cuts at two entries is
// still an ambiguous name, not a failure.
func TestSearch_LimitsWithSlapd(t *testing.T) {
	s := startDirectory(t)
	search := map[string]any{
		"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "rolename": "cn", "userrolename": "none",
		"rolebase": "ou=groups," + exampleSuffix, "rolesearch": "(member={0})", "resolve_nested_roles": true,
	}
	alice := sdk.User{Name: "alice"}
	for _, tt := range []struct {
		name    string
		config  map[string]any
		cap     int
		want    []string
		wantErr string
	}{
		{name: "nested roles at the cap", config: search, cap: 3, want: []string{"all", "devs", "staff"}},
		{name: "nested roles past the cap", config: search, cap: 2, wantErr: "more than 2"},
		{name: "one search past the cap", cap: 2, wantErr: "more than 2",
			config: merge(search, map[string]any{"rolesearch": "(objectClass=groupOfNames)", "resolve_nested_roles": false})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthorizer(t, merge(tt.config, map[string]any{"max_role_entries": tt.cap}), nil)
			g, err := a.Authorize(context.Background(), &alice)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error with %q", g, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(g.BackendRoles, tt.want) {
				t.Fatalf("got %v, %v; want %q", g, err, tt.want)
			}
		})
	}
	t.Run("an ambiguous user search cut at two entries is a rejection", func(t *testing.T) {
		b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "search_all_bases": true,
			"usersearch": "(|(uid={0})(objectClass=inetOrgPerson))"}, nil)
		if u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret")); err != nil || u != nil {
			t.Fatalf("got %v, %v; want a rejection", u, err)
		}
	})
}

// roleFlood is a directory that answers a search under ou=groups with as
// many entries as roles holds, ignoring the size limit, and any other
// search (the user's own entry) with one entry; it counts role searches.
type roleFlood struct {
	roles    atomic.Int64
	searches atomic.Int64
}

func startRoleFlood(t *testing.T) (*roleFlood, string) {
	f := &roleFlood{}
	return f, serveFake(t, f.answer)
}

func (f *roleFlood) answer(id any, op *ber.Packet) []*ber.Packet {
	switch op.Tag {
	case goldap.ApplicationBindRequest:
		return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)}
	case goldap.ApplicationSearchRequest:
		base, _ := op.Children[0].Value.(string)
		if !strings.HasPrefix(base, "ou=groups") {
			return []*ber.Packet{searchEntry(id, base), response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)}
		}
		f.searches.Add(1)
		var out []*ber.Packet
		for i := range f.roles.Load() {
			out = append(out, searchEntry(id, fmt.Sprintf("cn=g%d,%s", i, base)))
		}
		return append(out, response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess))
	}
	return nil
}

// Role searches ask for the role name and the nesting attributes only:
// custom_return_attributes ("*" by default) is for the user entry, and with
// it every role entry came back whole, every member of a group included.
func TestSearch_RoleSearchesAskOnlyForWhatRolesNeed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		config map[string]any
		want   []string
	}{
		{name: "defaults", config: map[string]any{"rolename": "cn"}, want: []string{"cn", "memberOf"}},
		{name: "custom return attributes stay on the user entry",
			config: map[string]any{"rolename": "cn", "custom_return_attributes": []any{"mail", "cn"}}, want: []string{"cn", "memberOf"}},
		{name: "role name from the DN, no nesting attribute",
			config: map[string]any{"rolename": "dn", "userrolename": ""}, want: []string{"1.1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, addr := startFloodServer(t, 1)
			a := newTestAuthorizer(t, merge(map[string]any{"hosts": addr, "rolebase": "ou=groups,o=TEST"}, tt.config), nil)
			if _, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN}); err != nil {
				t.Fatal(err)
			}
			var roleSearches int
			for _, s := range f.recorded() {
				if s.base != "ou=groups,o=TEST" {
					continue // the read of the user entry
				}
				roleSearches++
				if !slices.Equal(s.attributes, tt.want) {
					t.Errorf("role search asked for %q, want %q", s.attributes, tt.want)
				}
			}
			if roleSearches != 1 {
				t.Fatalf("%d role searches, want 1: %+v", roleSearches, f.recorded())
			}
		})
	}
}

// A role search cut at the cap on a pooled connection is answered once: the
// cut is the directory's answer, not a broken connection worth a retry
// (which ran the whole authorization twice, found by review).
func TestSearch_RoleSearchOverTheCapIsNotRetried(t *testing.T) {
	f, addr := startRoleFlood(t)
	a := newTestAuthorizer(t, map[string]any{"hosts": addr, "rolebase": "ou=groups,o=TEST", "rolename": "dn", "pool.enabled": true, "max_role_entries": 10}, nil)
	f.roles.Store(3) // under the cap: the connection goes back to the pool
	if _, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN}); err != nil {
		t.Fatal(err)
	}
	f.roles.Store(50)
	before := f.searches.Load()
	_, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN})
	if !errors.Is(err, errTooManyRoles) {
		t.Fatalf("err = %v, want errTooManyRoles", err)
	}
	if n := f.searches.Load() - before; n != 1 {
		t.Errorf("one Authorize over the cap sent %d role searches, want 1", n)
	}
}

// A pooled connection that the directory dropped fails the call's first
// request as unavailable; withSession runs the call once more on a fresh
// connection, and the caller never sees the dead one.
func TestSession_DeadPooledConnectionIsRetried(t *testing.T) {
	var searches atomic.Int64
	addr := serveFake(t, func(id any, op *ber.Packet) []*ber.Packet {
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)}
		case goldap.ApplicationSearchRequest:
			if searches.Add(1) == 3 {
				return nil // the first request of the second call: drop the pooled connection
			}
			base, _ := op.Children[0].Value.(string)
			return []*ber.Packet{searchEntry(id, "cn=g0,"+base), response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)}
		}
		return nil
	})
	a := newTestAuthorizer(t, map[string]any{"hosts": addr, "rolebase": "ou=groups,o=TEST", "rolename": "dn", "pool.enabled": true}, nil)
	for i := range 2 {
		if _, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if n := searches.Load(); n != 5 {
		t.Errorf("searches = %d, want 5: two per call and the one the dropped connection lost", n)
	}
}

// A pooled user-bind connection that the directory dropped is retried once
// too, so the user still logs in.
func TestBind_DeadPooledConnectionIsRetried(t *testing.T) {
	var binds atomic.Int64
	addr := serveFake(t, func(id any, op *ber.Packet) []*ber.Packet {
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			if binds.Add(1) == 2 {
				return nil // the second call's bind: drop the pooled connection
			}
			return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)}
		case goldap.ApplicationSearchRequest:
			return []*ber.Packet{searchEntry(id, jacksonDN), response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)}
		}
		return nil
	})
	b := newTestBackend(t, map[string]any{"hosts": addr, "userbase": "ou=people,o=TEST", "usersearch": "(uid={0})",
		"pool.enabled": true, "pool.min_size": 0}, nil)
	for i := range 2 {
		if u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret")); u == nil || err != nil {
			t.Fatalf("call %d: %v %v", i+1, u, err)
		}
	}
	if n := binds.Load(); n != 3 {
		t.Errorf("binds = %d, want 3: one per call and the one the dropped connection lost", n)
	}
}

// A slow directory (not a dead one) makes response_timeout fire on a
// pooled connection. That is not a stale connection: the call fails as
// unavailable after one search, instead of sending it again on a fresh
// connection and making the caller wait twice (found by review).
func TestSession_ResponseTimeoutOnPooledConnectionIsNotRetried(t *testing.T) {
	var searches atomic.Int64
	addr := serveFake(t, func(id any, op *ber.Packet) []*ber.Packet {
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)}
		case goldap.ApplicationSearchRequest:
			if searches.Add(1) > 2 {
				time.Sleep(700 * time.Millisecond) // the directory got slow
			}
			base, _ := op.Children[0].Value.(string)
			return []*ber.Packet{searchEntry(id, "cn=g0,"+base), response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)}
		}
		return nil
	})
	a := newTestAuthorizer(t, map[string]any{"hosts": addr, "rolebase": "ou=groups,o=TEST", "rolename": "dn",
		"pool.enabled": true, "pool.min_size": 0, "response_timeout": 300}, nil)
	if _, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN}); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	_, err := a.Authorize(context.Background(), &sdk.User{Name: jacksonDN})
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("call 2: %v, want unavailable", err)
	}
	if n := searches.Load() - 2; n != 1 {
		t.Errorf("call 2 timed out and sent %d searches, want 1", n)
	}
}

// The same for a user's bind: a bind that times out on a pooled connection
// is sent once, so a slow directory never counts the password twice towards
// an account lockout (found by review).
func TestBind_ResponseTimeoutOnPooledConnectionIsNotRetried(t *testing.T) {
	var binds atomic.Int64
	addr := serveFake(t, func(id any, op *ber.Packet) []*ber.Packet {
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			if binds.Add(1) > 1 {
				time.Sleep(700 * time.Millisecond) // the directory got slow
			}
			return []*ber.Packet{response(id, goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)}
		case goldap.ApplicationSearchRequest:
			return []*ber.Packet{searchEntry(id, jacksonDN), response(id, goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)}
		}
		return nil
	})
	b := newTestBackend(t, map[string]any{"hosts": addr, "userbase": "ou=people,o=TEST", "usersearch": "(uid={0})",
		"pool.enabled": true, "pool.min_size": 0, "response_timeout": 300}, nil)
	if u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret")); u == nil || err != nil {
		t.Fatalf("call 1: %v %v", u, err)
	}
	_, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("call 2: %v, want unavailable", err)
	}
	if n := binds.Load() - 1; n != 1 {
		t.Errorf("call 2 sent the user's bind %d times, want once", n)
	}
}
