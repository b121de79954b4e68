package core

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connStates tracks the front door's open connections and the state of
// each, for what a shutdown reports it closed. Its listener wraps every
// connection it accepts in a trackedConn, which holds its own state: the
// ConnState hook, which runs twice per request on a kept-alive connection,
// stores the state there, without a lock. Only a connection's first and
// last state change the set of connections, under mu. Found by review: a
// map of every connection's state under one mutex cost 65-86 ns a request
// with two cores contending for it.
type connStates struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// trackedConn is a front door connection that knows its http.ConnState.
type trackedConn struct {
	net.Conn
	state atomic.Int32 // an http.ConnState
}

// CloseWrite half-closes a TCP connection, as net/http does before it
// closes one it answered with Connection: close; wrapped, the net.Conn
// would hide the method.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// unreadLimit is how long an answer realmd wrote may wait on a client that
// does not read it before the kernel closes the connection (limitUnread).
const unreadLimit = 30 * time.Second

// trackingListener wraps each connection it accepts in a trackedConn, and
// bounds how long the connection's answers may wait unread (limitUnread).
type trackingListener struct{ net.Listener }

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	limitUnread(c, unreadLimit)
	return &trackedConn{Conn: c}, nil
}

// install makes srv report its connections' states to c, and returns ln
// wrapped for srv to serve: a connection from another listener is not
// tracked.
func (c *connStates) install(srv *http.Server, ln net.Listener) net.Listener {
	srv.ConnState = c.track
	return trackingListener{ln}
}

// track is an http.Server's ConnState hook.
func (c *connStates) track(conn net.Conn, state http.ConnState) {
	tc, ok := conn.(*trackedConn)
	if !ok {
		return
	}
	tc.state.Store(int32(state))
	switch state {
	case http.StateActive, http.StateIdle: // per request: no lock
	case http.StateNew:
		c.mu.Lock()
		if c.conns == nil {
			c.conns = map[*trackedConn]struct{}{}
		}
		c.conns[tc] = struct{}{}
		c.mu.Unlock()
	case http.StateClosed, http.StateHijacked:
		c.mu.Lock()
		delete(c.conns, tc)
		c.mu.Unlock()
	}
}

// count is the number of connections in state.
func (c *connStates) count(state http.ConnState) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for tc := range c.conns {
		if http.ConnState(tc.state.Load()) == state {
			n++
		}
	}
	return n
}
