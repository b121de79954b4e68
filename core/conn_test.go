package core

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// listenFrontDoor serves fd's routes on a loopback listener as Run does,
// and returns its address.
func listenFrontDoor(t *testing.T, fd *frontDoor) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(fd.d.counted(fd.routes()), 1<<20, hclog.NewNullLogger())
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// A request that declares a body it never sends (GET /auth with
// Content-Length: 1000, from a proxy that forwards the client's
// Content-Length) is answered at once, and its connection closed. Go's
// server read up to 256 KiB of the unread body, with no deadline, before
// writing the answer: each such request held its connection and goroutine
// for ever, and about a thousand of them stopped realmd answering /healthz
// (found by review).
func TestFrontDoor_ARequestWithABodyItNeverSendsIsAnsweredAndClosed(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 1))
	addr := listenFrontDoor(t, &frontDoor{d: d, logger: d.logger})
	for _, tc := range []struct{ name, request, status string }{
		{"forward-auth with Content-Length", "GET /auth HTTP/1.1\r\nHost: x\r\nX-User: alice\r\nContent-Length: 1000\r\n\r\n", "HTTP/1.1 200"},
		{"forward-auth with a chunked body", "GET /auth HTTP/1.1\r\nHost: x\r\nX-User: alice\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 200"},
		{"authinfo with part of its body", "POST /_plugins/_security/authinfo HTTP/1.1\r\nHost: x\r\nX-User: alice\r\nContent-Length: 1000\r\n\r\n{\"a\":", "HTTP/1.1 200"},
		{"a refused request", "GET /auth HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 401"},
		{"healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 200"},
		// net/http answers OPTIONS * itself unless told not to, reading up
		// to 4 KiB of the body first, with no deadline (found by review).
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "HTTP/1.1 400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(tc.request)); err != nil {
				t.Fatal(err)
			}
			// A bound for a hang, not a timing: the answer takes
			// milliseconds, and without the fix it never comes.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			if got := resp.Proto + " " + resp.Status; !strings.HasPrefix(got, tc.status) {
				t.Errorf("answer %q, want %q", got, tc.status)
			}
			if !resp.Close {
				t.Errorf("answer without Connection: close (header %q)", resp.Header.Get("Connection"))
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatalf("reading the answer's body: %v", err)
			}
			var one [1]byte
			if _, err := conn.Read(one[:]); !errors.Is(err, io.EOF) {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("the connection was left open after the answer")
				}
				t.Fatalf("after the answer: %v, want the connection closed (EOF)", err)
			}
		})
	}
}

// A request without a body keeps its connection: the next request on it is
// answered too.
func TestFrontDoor_ARequestWithoutABodyKeepsItsConnection(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 1))
	addr := listenFrontDoor(t, &frontDoor{d: d, logger: d.logger})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second)) // a bound for a hang
	br := bufio.NewReader(conn)
	for i := range 2 {
		if _, err := conn.Write([]byte("GET /auth HTTP/1.1\r\nHost: x\r\nX-User: alice\r\n\r\n")); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("request %d: status %d, close %v; want 200 on a kept connection", i, resp.StatusCode, resp.Close)
		}
	}
}
