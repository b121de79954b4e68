package core

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A named pipe where a plugin's file was blocked fileSum, under the
// instance pool's lock, until something wrote to it.
func TestFileSum_ANamedPipeIsNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	done := make(chan string, 1)
	go func() { done <- fileSum(path) }()
	select {
	case sum := <-done:
		if sum != "" {
			t.Fatalf("sum %q of a named pipe, want none", sum)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fileSum blocked on a named pipe")
	}
	regular := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(regular, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fileSum(regular) == "" {
		t.Fatal("no sum of a regular file")
	}
}
