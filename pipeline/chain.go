package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/realmd/realmd/sdk"
)

// authenticate is domain i's stage: OpenSearch's per-domain loop body
// (BackendRegistry.authenticate), one domain at a time.
func (p *Pipeline) authenticate(j *job, i int) {
	d := &p.cfg.Domains[i]
	next := func() {
		if i+1 < len(p.stages) {
			p.send(p.stages[i+1], j)
		} else {
			p.conclude(j)
		}
	}
	if d.Challenge && j.firstChallenging == nil {
		j.firstChallenging = d
	}
	creds, reason, err := d.Authenticator.Extract(j.ctx, j.req.Restrict(d.Inputs))
	if err == nil && creds != nil && creds.Continue == "" && creds.Username == "" {
		// OpenSearch's AuthCredentials refuses an empty user name, and the
		// exception skips the domain.
		err = fmt.Errorf("%w: credentials without a user name", sdk.ErrMalformed)
	}
	if err != nil {
		// A realm that failed on the request (malformed credentials, or its
		// own failure: a panic, a key set not loaded) may have been looking
		// at credentials: they never become the anonymous user (found by
		// review: a token that made its realm fail got the anonymous user).
		j.sawCredentials = true
		p.skip(j, i, extracting, err)
		next()
		return
	}
	p.answered(i, extracting)
	j.sawCredentials = j.sawCredentials || creds != nil // bad credentials never become anonymous
	if creds != nil && p.limits.userBlocked(d, creds.Username) {
		if p.debug() {
			p.log.Debug("user name blocked; domain skipped", "domain", d.Name, "user", LogText(creds.Username))
		}
		j.skippedBlocked = true
		next()
		return
	}
	if creds == nil {
		if p.debug() {
			p.log.Debug("no credentials", "domain", d.Name, "reason", LogText(reason))
		}
		if !j.anonLogin && d.Challenge && d.ChallengeResponse.WWWAuthenticate != "" {
			// An earlier domain could not be asked: the client may have sent
			// its credentials, so asking for new ones would mislead it.
			if len(j.unavailable) > 0 {
				j.finish(Result{Outcome: Unavailable})
				return
			}
			j.finish(Result{Outcome: Challenged, Challenge: d.ChallengeResponse})
			return
		}
		next()
		return
	}
	if creds.Continue != "" {
		c := d.ChallengeResponse
		c.WWWAuthenticate = creds.Continue
		j.finish(Result{Outcome: Challenged, Challenge: c})
		return
	}
	user, ttl, ok := p.verify(j, i, creds)
	if ok && !headerSafe(user.Name) {
		p.warnLimited(&p.answerWarnings[i], unsafeUserName,
			"user name cannot be sent in a header as it is (a control character, invalid UTF-8, or a space at an end); credentials rejected",
			"domain", d.Name, "user", LogText(user.Name))
		ok = false
	}
	if !ok {
		next()
		return
	}
	j.user, j.domain, j.username, j.ttl = user, d, creds.Username, ttl
	if len(p.cfg.Authz) == 0 { // nothing to fan out to: spare a hand-off
		j.finish(Result{Outcome: Authenticated})
		return
	}
	p.send(p.authz, j)
}

// debug reports whether p's logger writes debug lines, which the pipeline
// builds only then: their fields (an error's text, LogText's quoting) cost
// allocations on every request that meets them (found by review: each
// malformed credential formatted its error for a line that was dropped).
func (p *Pipeline) debug() bool { return p.log.IsDebug() }

// verify runs d's backend. ok is false when the credentials were rejected
// or the backend failed.
func (p *Pipeline) verify(j *job, i int, creds *sdk.Credentials) (user sdk.User, ttl time.Duration, ok bool) {
	d := &p.cfg.Domains[i]
	if d.Backend == nil { // noop: the credentials are the user
		return sdk.User{
			Name:         creds.Username,
			BackendRoles: creds.BackendRoles,
			Attributes:   creds.Attributes,
			LoginName:    creds.Username,
		}, creds.CacheTTL, true
	}
	u, reason, err := d.Backend.Authenticate(j.ctx, creds)
	if err != nil {
		p.skip(j, i, verifying, err)
		return sdk.User{}, 0, false
	}
	p.answered(i, verifying)
	if u == nil {
		if p.debug() {
			p.log.Debug("credentials rejected", "domain", d.Name, "user", LogText(creds.Username), "reason", LogText(reason))
		}
		p.limits.userFailed(d, creds.Username)
		return sdk.User{}, 0, false
	}
	if u.Name == "" { // OpenSearch's User refuses an empty name; the domain is skipped
		p.log.Warn("backend answered a user without a name; credentials rejected", "domain", d.Name, "user", LogText(creds.Username))
		return sdk.User{}, 0, false
	}
	if u.LoginName == "" {
		u.LoginName = creds.Username
	}
	return *u, min(creds.CacheTTL, u.CacheTTL), true
}

// skip records why domain i could not answer at step; OpenSearch skips
// such a domain, and realmd remembers the unavailable ones for a 503. Its
// warnings go through the domain's stepWarnings: one line per warnEvery.
func (p *Pipeline) skip(j *job, i, step int, err error) {
	d := &p.cfg.Domains[i]
	switch {
	case errors.Is(err, sdk.ErrUnavailable):
		j.unavailable = append(j.unavailable, d.Name)
		p.warn(i, step, unavailable, err)
	case errors.Is(err, sdk.ErrMalformed):
		if p.debug() {
			p.log.Debug("malformed credentials", "domain", d.Name, "error", LogText(err.Error()))
		}
		p.answered(i, step) // the realm answered: the credentials are bad
	default:
		j.failed = true
		p.warn(i, step, failed, err)
	}
}

// conclude answers a request no domain authenticated.
// An unavailable domain comes first: it may have held the request's
// credentials, so neither a challenge nor the anonymous user is a safe answer.
func (p *Pipeline) conclude(j *job) {
	if len(j.unavailable) > 0 {
		j.finish(Result{Outcome: Unavailable})
		return
	}
	if j.anonLogin && !j.sawCredentials {
		j.user = sdk.User{Name: AnonymousUser, BackendRoles: []string{AnonymousBackendRole}, LoginName: AnonymousUser}
		j.domain, j.ttl = nil, 0
		j.finish(Result{Outcome: Authenticated})
		return
	}
	if d := j.firstChallenging; d != nil && d.ChallengeResponse.WWWAuthenticate != "" {
		j.finish(Result{Outcome: Challenged, Challenge: d.ChallengeResponse})
		return
	}
	j.finish(Result{Outcome: Challenged, Challenge: finalChallenge})
}

// finalChallenge is OpenSearch's 401 when no domain can challenge.
var finalChallenge = sdk.Challenge{Body: FinalFailureBody, ContentType: "text/plain; charset=UTF-8"}

// authorize is the authz stage: every authorization backend in parallel,
// merged in declared order. A failing backend is logged (through its
// stepWarnings: one line per warnEvery) and skipped, as in OpenSearch; the
// user keeps the roles collected so far, but the answer is not cached.
func (p *Pipeline) authorize(j *job) {
	grants := make([]*sdk.Grant, len(p.cfg.Authz))
	errs := make([]error, len(p.cfg.Authz))
	var wg sync.WaitGroup
	for i, a := range p.cfg.Authz {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := j.user
			grants[i], errs[i] = a.Backend.Authorize(j.ctx, &u)
		}()
	}
	wg.Wait()
	for i, g := range grants {
		if g == nil && errs[i] == nil {
			g = &sdk.Grant{} // no grant is an empty one, not a crash
		}
		if errs[i] != nil {
			if p.debug() {
				p.log.Debug("cannot retrieve roles", "authz", p.cfg.Authz[i].Name, "user", LogText(j.user.Name), "error", LogText(errs[i].Error()))
			}
			p.warnAuthz(i, errs[i])
			j.ttl = 0
			continue
		}
		p.answeredAuthz(i)
		j.user = merge(j.user, g)
		j.ttl = min(j.ttl, g.CacheTTL)
	}
	j.finish(Result{Outcome: Authenticated})
}

// merge adds g's roles and attributes to u, keeping order. Repeated roles
// stay until the user is assembled (assembled removes them).
func merge(u sdk.User, g *sdk.Grant) sdk.User {
	if g == nil {
		return u
	}
	// Clip: never append into a backing array the user's previous owner shares.
	u.BackendRoles = append(slices.Clip(u.BackendRoles), g.BackendRoles...)
	u.SecurityRoles = append(slices.Clip(u.SecurityRoles), g.SecurityRoles...)
	if len(g.Attributes) > 0 {
		attrs := make(map[string]string, len(u.Attributes)+len(g.Attributes))
		for k, v := range u.Attributes {
			attrs[k] = v
		}
		for k, v := range g.Attributes {
			attrs[k] = v
		}
		u.Attributes = attrs
	}
	return u
}

// assembled is u as the pipeline answers and caches it, once
// authentication and authorization are done: its roles are sets, as in
// OpenSearch's User, so a role that an authenticator, a backend or several
// authorizers named more than once appears once. This is the one place
// repeats are removed, and roles that cannot travel in a header
// (headerSafe) are dropped, before role mapping sees them: realmd decides
// on exactly the names it sends. dropped lists those.
func assembled(u sdk.User) (_ sdk.User, dropped []string) {
	u.BackendRoles, dropped = headerSafeOnly(distinct(u.BackendRoles), dropped)
	u.SecurityRoles, dropped = headerSafeOnly(distinct(u.SecurityRoles), dropped)
	return u, dropped
}

// headerSafe reports whether s reaches the application as it is when sent
// in a header value: not empty, valid UTF-8, no control character (Go's
// HTTP server turns CR and LF into spaces and sends the others raw, which
// proxies refuse or pass on), and no space or tab at either end (which it
// trims). Found by review: " admin" was checked as " admin" and sent as
// "admin", and "ad\nmin" and "ad min" became one user downstream.
func headerSafe(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	if c := s[0]; c == ' ' || c == '\t' {
		return false
	}
	if c := s[len(s)-1]; c == ' ' || c == '\t' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// headerSafeOnly returns roles without the ones headerSafe refuses, which
// it adds to dropped. roles itself is returned when all are safe.
func headerSafeOnly(roles, dropped []string) ([]string, []string) {
	for i, r := range roles {
		if headerSafe(r) {
			continue
		}
		kept := slices.Clone(roles[:i])
		for _, r := range roles[i:] {
			if headerSafe(r) {
				kept = append(kept, r)
			} else {
				dropped = append(dropped, r)
			}
		}
		return kept, dropped
	}
	return roles, dropped
}

// distinct returns s without repeated values, each value where it first
// occurs. It never modifies s (a plugin's answer may share it): s itself
// is returned when it has no repeats, otherwise a new slice. It runs on
// every uncached answer, so a short list (the usual case) is scanned
// without allocating; a long one uses a set.
func distinct(s []string) []string {
	if len(s) < 2 {
		return s
	}
	var seen map[string]struct{}
	if len(s) > 16 {
		seen = make(map[string]struct{}, len(s))
	}
	var out []string // nil until the first repeat
	for i, v := range s {
		var dup bool
		if seen != nil {
			_, dup = seen[v]
			seen[v] = struct{}{}
		} else {
			dup = slices.Contains(s[:i], v)
		}
		if dup {
			if out == nil {
				out = slices.Clone(s[:i])
			}
			continue
		}
		if out != nil {
			out = append(out, v)
		}
	}
	if out == nil {
		return s
	}
	return out
}
