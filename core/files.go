package core

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"syscall"
)

// fileSum is the SHA-256 of a file's content, or "" when it cannot be read
// (a missing file differs from every present one).
func fileSum(path string) string {
	// Only a regular file, opened without blocking: opening a named pipe
	// waits for a writer, and this runs under the instance pool's lock.
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
		return ""
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sumFiles(paths []string) map[string]string {
	sums := make(map[string]string, len(paths))
	for _, p := range paths {
		sums[p] = fileSum(p)
	}
	return sums
}
