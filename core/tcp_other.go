//go:build !linux

package core

import (
	"net"
	"time"
)

// limitUnread does nothing off Linux, which has no TCP_USER_TIMEOUT: a
// client that stops reading its answers keeps its connection until it
// closes it (put realmd behind the proxy, as the README says).
func limitUnread(net.Conn, time.Duration) {}
