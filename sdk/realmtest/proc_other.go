//go:build !unix

package realmtest

import "errors"

// processGone is not implemented here; the parent-death checks skip.
func processGone(int) (bool, error) {
	return false, errors.New("process watching is not supported on this platform")
}
