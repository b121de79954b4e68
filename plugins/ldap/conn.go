package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// conn is one open LDAP connection. It is used by one goroutine at a time.
type conn struct {
	l         *goldap.Conn
	raw       net.Conn // the TCP connection under TLS, for deadlines
	host      *Host
	idleSince time.Time
	pooled    bool // counted by a pool; otherwise closed after use
	reused    bool // came out of a pool's idle list
	doomed    bool // ctx was cancelled during an operation
	timedOut  bool // an operation ran into its deadline
	peerGone  bool // an operation found the connection closed by the directory
}

func (c *conn) close() { _ = c.l.Close() }

// do runs fn with a deadline from the response timeout and ctx; cancelling
// ctx aborts fn. A deadline that fires breaks the connection.
func (c *conn) do(ctx context.Context, responseTimeout time.Duration, fn func(*goldap.Conn) error) error {
	dl := deadline(ctx, responseTimeout)
	_ = c.raw.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = c.raw.SetDeadline(time.Unix(1, 0)) })
	err := fn(c.l)
	switch {
	case err == nil:
	case isTimeout(err) || !dl.IsZero() && !time.Now().Before(dl):
		c.timedOut = true
	case closedByPeer(err):
		c.peerGone = true
	}
	if !stop() {
		c.doomed = true // the deadline moved to the past: the next read fails
		return err
	}
	_ = c.raw.SetDeadline(time.Time{})
	return err
}

// staleRetry reports whether a failed call on c may run once more on a
// fresh connection: c came out of the idle pool and the directory had
// closed it (restarted, idle timeout). Never after a timeout: a slow
// directory would get every operation, a user's password bind included,
// twice, and the caller would wait twice as long.
func (c *conn) staleRetry() bool {
	return c.reused && c.peerGone && !c.timedOut
}

// isTimeout reports whether err is a deadline or go-ldap timeout. go-ldap
// passes a read error to waiting operations as text only.
func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out")
}

// closedByPeer reports whether err shows that the directory closed the
// connection: EOF, a reset, or go-ldap's "connection closed" (also only
// as text, see isTimeout). A directory's LDAP answer never is.
func closedByPeer(err error) bool {
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode != goldap.ErrorNetwork {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"EOF", "connection reset", "broken pipe", "connection closed", "response channel closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// deadline is when an operation must end: response_timeout from now or
// ctx's deadline, whichever comes first; zero for neither.
func deadline(ctx context.Context, responseTimeout time.Duration) time.Time {
	var d time.Time
	if responseTimeout > 0 {
		d = time.Now().Add(responseTimeout)
	}
	if cd, ok := ctx.Deadline(); ok && (d.IsZero() || cd.Before(d)) {
		d = cd
	}
	return d
}

// timeLimit is a search's LDAP time limit for deadline: the whole seconds
// left, rounded up and at least 1 (0 asks for no limit), so the directory
// stops working on a search realmd has given up on. 0 without a deadline.
func timeLimit(deadline time.Time) int {
	if deadline.IsZero() {
		return 0
	}
	return max(1, int(math.Ceil(time.Until(deadline).Seconds())))
}

// broken reports whether err (or the connection's state) means the
// connection cannot be used again.
func (c *conn) broken(err error) bool {
	if c.doomed || c.l.IsClosing() {
		return true
	}
	if err == nil {
		return false
	}
	var le *goldap.Error
	if !errors.As(err, &le) {
		return true // go-ldap reports a dead socket as a plain error
	}
	switch le.ResultCode {
	case goldap.ErrorNetwork, goldap.ErrorUnexpectedMessage, goldap.ErrorUnexpectedResponse,
		goldap.LDAPResultBusy, goldap.LDAPResultUnavailable, goldap.LDAPResultOther:
		return true
	}
	return false
}

// dialer opens connections: servers in connection_strategy order, TLS or
// StartTLS, connect_timeout for the whole setup.
type dialer struct {
	cfg    *ConnConfig
	tls    *tls.Config
	roots  *x509.CertPool
	logger hclog.Logger
	next   atomic.Uint64 // round_robin position
	dials  atomic.Int64  // TCP connections opened, for tests and benchmarks

	mu   sync.Mutex
	down map[string]bool // hosts whose last attempt failed, to log changes only
}

func newDialer(cfg *ConnConfig, logger hclog.Logger) (*dialer, error) {
	d := &dialer{cfg: cfg, logger: logger, down: map[string]bool{}}
	needTLS := cfg.EnableStartTLS
	for _, h := range cfg.Hosts {
		needTLS = needTLS || h.LDAPS
	}
	if needTLS {
		tc, roots, err := cfg.TLS.build(cfg.ClientAuth)
		if err != nil {
			return nil, err
		}
		d.tls, d.roots = tc, roots
		if roots == nil && !cfg.TLS.TrustAll {
			logger.Info("no pemtrustedcas_filepath or pemtrustedcas_content: trusting the system roots")
		}
	}
	return d, nil
}

// order returns the hosts in the order to try them.
func (d *dialer) order() []*Host {
	n := len(d.cfg.Hosts)
	if n == 0 {
		return nil
	}
	start := 0
	switch d.cfg.Strategy {
	case "round_robin":
		start = int((d.next.Add(1) - 1) % uint64(n))
	case "random":
		start = rand.IntN(n)
	}
	out := make([]*Host, 0, n)
	for i := range n {
		out = append(out, &d.cfg.Hosts[(start+i)%n])
	}
	return out
}

// open connects to the first server that answers and runs init (the
// service bind) on it. Every failure wraps sdk.ErrUnavailable.
func (d *dialer) open(ctx context.Context, init func(context.Context, *conn) error) (*conn, error) {
	var errs []error
	for _, h := range d.order() {
		c, err := d.openHost(ctx, h, init)
		if err == nil {
			d.markUp(h)
			return c, nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller left (a client gone away): that says nothing about
			// the server, so it is neither logged as down nor blamed.
			return nil, fmt.Errorf("%w: the request was cancelled while connecting to ldap server %s", sdk.ErrUnavailable, h.Raw)
		}
		d.markDown(h, err)
		errs = append(errs, fmt.Errorf("%s: %w", h.Raw, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: no ldap server reachable: %w", sdk.ErrUnavailable, errors.Join(errs...))
}

func (d *dialer) openHost(ctx context.Context, h *Host, init func(context.Context, *conn) error) (*conn, error) {
	if d.cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.ConnectTimeout)
		defer cancel()
	}
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", h.Addr)
	if err != nil {
		return nil, err
	}
	d.dials.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var verifyErr error
	var tc *tls.Config
	if d.tls != nil {
		tc = d.tls.Clone()
		tc.ServerName = h.Name
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := d.cfg.TLS.verifyPeer(cs, d.roots, h.Name); err != nil {
				verifyErr = d.cfg.TLS.certError(err)
			}
			return verifyErr
		}
	}
	var nc net.Conn = raw
	if h.LDAPS {
		tlsConn := tls.Client(raw, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, tlsFailure(verifyErr, err)
		}
		nc = tlsConn
	}
	l := goldap.NewConn(nc, h.LDAPS)
	l.Start()
	c := &conn{l: l, raw: raw, host: h}
	if d.cfg.EnableStartTLS {
		if err := l.StartTLS(tc); err != nil {
			c.close()
			return nil, tlsFailure(verifyErr, fmt.Errorf("starttls: %w", err))
		}
	}
	if init != nil {
		if err := init(ctx, c); err != nil {
			c.close()
			return nil, err
		}
	}
	if !stop() {
		c.close()
		return nil, ctx.Err()
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// tlsFailure is the error of a failed TLS handshake or StartTLS: the
// certificate check's own error (a *certError) when that check failed, err
// otherwise.
func tlsFailure(verifyErr, err error) error {
	if verifyErr != nil {
		return verifyErr
	}
	return err
}

// bindError is a failed service bind (bind_dn and password, or SASL EXTERNAL).
type bindError struct{ err error }

func (e *bindError) Error() string { return "service bind failed: " + e.err.Error() }
func (e *bindError) Unwrap() error { return e.err }

func (d *dialer) markUp(h *Host) {
	d.mu.Lock()
	was := d.down[h.Raw]
	delete(d.down, h.Raw)
	d.mu.Unlock()
	if was {
		d.logger.Info("ldap server reachable again", "host", h.Raw)
	}
}

// markDown logs the first failure of a host after it worked (or at start)
// at error level with a hint, and repeats at debug level.
func (d *dialer) markDown(h *Host, err error) {
	d.mu.Lock()
	was := d.down[h.Raw]
	d.down[h.Raw] = true
	d.mu.Unlock()
	log := d.logger.Error
	if was {
		log = d.logger.Debug
	}
	var ce *certError
	var be *bindError
	switch {
	case errors.As(err, &ce):
		args := append([]any{"host", h.Raw}, ce.attrs...)
		log(ce.msg, append(args, "error", ce.err, "hint", ce.hint)...)
	case errors.As(err, &be):
		log("ldap service bind failed", "host", h.Raw, "bind_dn", d.cfg.BindDN, "error", err,
			"hint", "check bind_dn and password (or the client certificate for SASL EXTERNAL)")
	default:
		log("ldap server unreachable", "host", h.Raw, "error", err)
	}
}
