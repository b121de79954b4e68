package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

// fakeTimers stands in for afterFunc: the test fires what is due.
type fakeTimers struct {
	mu  sync.Mutex
	fns []func()
}

func (f *fakeTimers) afterFunc(_ time.Duration, fn func()) *time.Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns = append(f.fns, fn)
	return nil
}

// fire runs every timer armed so far.
func (f *fakeTimers) fire() {
	f.mu.Lock()
	fns := f.fns
	f.fns = nil
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// An outage's failures counted after its first line are logged even when
// no request comes after them to report them: traffic stops, or a reload
// replaces the pipeline (its successor starts counting afresh). warnEvery
// after the last line, the failures are logged with their count, as the
// next failure would have logged them (found by review: the counts were
// lost without a word).
func TestOutage_CountsAreLoggedWhenNoRequestReportsThem(t *testing.T) {
	const requests = 20
	step := "domain=ldap step=verifying credentials"
	for _, closed := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipeline closed %v", closed), func(t *testing.T) {
			timers := &fakeTimers{}
			defer func(old func(time.Duration, func()) *time.Timer) { afterFunc = old }(afterFunc)
			afterFunc = timers.afterFunc
			logs := &lineLogger{}
			v := users()
			v.err = errDirectoryDown
			p := New(Config{Domains: []Domain{basicDomain("ldap", true, v)}, Logger: logs})
			defer p.Close()
			clock := clockAt(time.Unix(1e9, 0))
			p.now = clock.now
			for range requests {
				ask(t, p, request("Authorization: Basic alice:secret"))
			}
			if got, want := logs.take(), []string{"domain unavailable " + step}; !slices.Equal(got, want) {
				t.Fatalf("during the outage: %q, want %q", got, want)
			}
			if closed {
				p.Close()
			}
			timers.fire() // too early: nothing is due yet
			if got := logs.take(); len(got) != 0 {
				t.Fatalf("before warnEvery passed: %q, want nothing", got)
			}
			clock.advance(warnEvery)
			timers.fire()
			want := []string{"domain unavailable " + step + fmt.Sprintf(" suppressed=%d", requests-1)}
			if got := logs.take(); !slices.Equal(got, want) {
				t.Fatalf("warnEvery after the last line: %q, want %q", got, want)
			}
			// Reported once: a later answer has nothing left to report.
			v.err = nil
			timers.fire()
			if !closed {
				ask(t, p, request("Authorization: Basic alice:secret"))
			}
			if got := logs.take(); len(got) != 0 {
				t.Errorf("after the counts were logged: %q, want nothing", got)
			}
		})
	}
}

// The failures counted after "domain answers again" are logged the same
// way when nothing reports them.
func TestOutage_CountsAfterAnAnswerLineAreLoggedToo(t *testing.T) {
	timers := &fakeTimers{}
	defer func(old func(time.Duration, func()) *time.Timer) { afterFunc = old }(afterFunc)
	afterFunc = timers.afterFunc
	logs := &lineLogger{}
	v := users()
	p := start(t, Config{Domains: []Domain{basicDomain("ldap", true, v)}, Logger: logs})
	clock := clockAt(time.Unix(1e9, 0))
	p.now = clock.now
	step := "domain=ldap step=verifying credentials"
	v.err = sdk.ErrInternal
	ask(t, p, request("Authorization: Basic alice:secret"))
	ask(t, p, request("Authorization: Basic alice:secret"))
	v.err = nil
	ask(t, p, request("Authorization: Basic alice:secret"))
	v.err = sdk.ErrInternal
	ask(t, p, request("Authorization: Basic alice:secret"))
	want := []string{"domain failed " + step, "domain answers again " + step + " unavailable=0 failed=1"}
	if got := logs.take(); !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	clock.advance(warnEvery)
	timers.fire()
	if got, want := logs.take(), []string{"domain failed " + step + " suppressed=1"}; !slices.Equal(got, want) {
		t.Fatalf("warnEvery later: %q, want %q", got, want)
	}
}

// A realm's answer that realmd cannot send as it is (a user name a header
// cannot carry, roles it drops) is warned about as an outage is: once per
// warnEvery per domain, the lines in between counted and their count
// logged with the next line, or by the timer when none comes. Without a
// limit every such request logged a line; with text the realm ignores
// after the credential, every request is uncached (found by review).
func TestWarnings_AnswerWarningsAreLimitedPerDomain(t *testing.T) {
	tests := []struct {
		name string
		user *sdk.User
		line string
	}{
		{name: "a user name a header cannot carry", user: &sdk.User{Name: "eve "},
			line: "user name cannot be sent in a header as it is (a control character, invalid UTF-8, or a space at an end); credentials rejected domain=basic user=eve "},
		{name: "roles that are dropped", user: &sdk.User{Name: "eve", BackendRoles: []string{"staff", "ad\nmin"}},
			line: "roles that cannot be sent in a header as they are (empty, a control character, invalid UTF-8, or a space at an end) were dropped domain=basic user=eve roles=[\"ad\\nmin\"]"},
	}
	const burst = 50
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timers := &fakeTimers{}
			defer func(old func(time.Duration, func()) *time.Timer) { afterFunc = old }(afterFunc)
			afterFunc = timers.afterFunc
			logs := &lineLogger{}
			answer := func(*sdk.Credentials) *sdk.User { u := *tt.user; return &u }
			other := basicDomain("other", false, &fakeVerifierFunc{fn: answer})
			other.Authenticator = bearerExtractor(sdk.CacheForever)
			p := start(t, Config{Domains: []Domain{other, basicDomain("basic", true, &fakeVerifierFunc{fn: answer})}, Logger: logs})
			clock := clockAt(time.Unix(1e9, 0))
			p.now = clock.now
			for range burst {
				ask(t, p, request("Authorization: Basic eve:x"))
			}
			if got, want := logs.take(), []string{tt.line}; !slices.Equal(got, want) {
				t.Fatalf("after %d requests: %q, want %q", burst, got, want)
			}
			// Another domain's lines are limited on their own.
			ask(t, p, request("Authorization: Bearer eve"))
			if got, want := logs.take(), []string{strings.Replace(tt.line, "domain=basic", "domain=other", 1)}; !slices.Equal(got, want) {
				t.Fatalf("the other domain: %q, want %q", got, want)
			}
			// warnEvery later, the next line carries the count.
			clock.advance(warnEvery)
			ask(t, p, request("Authorization: Basic eve:x"))
			if got, want := logs.take(), []string{tt.line + fmt.Sprintf(" suppressed=%d", burst-1)}; !slices.Equal(got, want) {
				t.Fatalf("warnEvery later: %q, want %q", got, want)
			}
			// A burst that no line follows: the timer logs its count.
			for range burst {
				ask(t, p, request("Authorization: Basic eve:x"))
			}
			clock.advance(warnEvery)
			timers.fire()
			if got, want := logs.take(), []string{tt.line + fmt.Sprintf(" suppressed=%d", burst)}; !slices.Equal(got, want) {
				t.Fatalf("after a burst no request followed: %q, want %q", got, want)
			}
		})
	}
}

// A failure that is only counted (within warnEvery of its kind's last
// line) allocates nothing, as before the limiter kept the last line: its
// error is formatted (LogText) and its fields built only when a line is
// written, by the next failure logged or by the timer (found by review:
// every failed request of an outage formatted its error and built six
// fields). The line the timer writes still carries the error, quoted.
func TestOutage_ACountedFailureAllocatesNothing(t *testing.T) {
	timers := &fakeTimers{}
	defer func(old func(time.Duration, func()) *time.Timer) { afterFunc = old }(afterFunc)
	afterFunc = timers.afterFunc
	var out testenv.LogBuffer
	p := New(Config{Domains: []Domain{basicDomain("ldap", true, users())}, Authz: []AuthzDomain{{Name: "ldapz", Backend: &fakeGranter{}}},
		Logger: hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Info})})
	defer p.Close()
	clock := clockAt(time.Unix(1e9, 0))
	p.now = clock.now
	// errors.Join formats its text on every Error call, as a gRPC status does.
	err := errors.Join(sdk.ErrUnavailable, errors.New("dial tcp 10.0.0.1:636:\nconnection refused"))
	for _, tt := range []struct {
		name string
		fail func()
	}{
		{"a domain's step", func() { p.warn(0, verifying, unavailable, err) }},
		{"an authorization backend", func() { p.warnAuthz(0, err) }},
	} {
		tt.fail() // logged
		tt.fail() // counted; arms the timer
		if n := testing.AllocsPerRun(100, tt.fail); n != 0 {
			t.Errorf("%s: a counted failure allocates %v times, want 0", tt.name, n)
		}
	}
	clock.advance(warnEvery)
	timers.fire()
	logged := out.String()
	for _, want := range []string{
		`domain unavailable: domain=ldap step="verifying credentials" error="unavailable\ndial tcp 10.0.0.1:636:\nconnection refused" suppressed=102`,
		`domain unavailable: authz=ldapz step="retrieving roles" error="unavailable\ndial tcp 10.0.0.1:636:\nconnection refused" suppressed=102`,
	} {
		if strings.Count(logged, want) != 1 {
			t.Errorf("want one line ending %s in:\n%s", want, logged)
		}
	}
}
