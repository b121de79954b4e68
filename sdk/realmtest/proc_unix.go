//go:build unix && !linux

package realmtest

import (
	"errors"
	"syscall"
)

// processGone reports whether pid has exited. A zombie whose new parent does
// not reap it still counts as running here.
func processGone(pid int) (bool, error) {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true, nil
	}
	return false, nil
}
