package core

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// limitUnread has the kernel close c when data realmd wrote to it stays
// unacknowledged, or unsent because the client's window is full, for
// longer than d (TCP_USER_TIMEOUT). It bounds what a client that stops
// reading its answers can hold (a goroutine and a descriptor each), at no
// cost per request: a write deadline, set on every request, cost about
// 1 µs of CPU per uncached login (measured). It does not limit a request a
// handler is still answering. On an idle connection it replaces
// keepalive's probe count: a peer that vanished is dropped after d of
// unanswered probes rather than about 150 s (a live peer answers them).
// Older kernels are reported (not checked here, on 6.18) not to fire it
// while a client keeps acknowledging zero-window probes, which is the case
// this is for: there a client that stops reading is unbounded again.
func limitUnread(c net.Conn, d time.Duration) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
	})
}
