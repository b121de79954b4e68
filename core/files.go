package core

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// fileSum is the SHA-256 of a file's content, or "" when it cannot be read
// (a missing file differs from every present one).
func fileSum(path string) string {
	f, err := os.Open(path)
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
