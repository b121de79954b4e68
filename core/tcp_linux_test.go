package core

import (
	"net"
	"testing"
	"time"
)

// A client that stops reading its answers holds its connection only until
// the kernel gives up on the unread data (TCP_USER_TIMEOUT): realmd's write
// then fails and the connection and its goroutine go. Without a limit the
// write would wait for ever (no front door write has a deadline: setting one
// on every request was measurably dear).
func TestLimitUnread_AWriteToAClientThatDoesNotReadFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close() // never read
	server, err := trackingListener{ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	limitUnread(server.(*trackedConn).Conn, 300*time.Millisecond) // as Accept does with unreadLimit, shorter

	failed := make(chan error, 1)
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := server.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
	}()
	select {
	case err := <-failed:
		t.Logf("the write failed as it should: %v", err)
	case <-time.After(30 * time.Second): // a guard, not a timing: without the limit it never fails
		t.Fatal("a write to a client that does not read still waits after 30 s")
	}
}
