package realmtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// processGone reports whether pid has exited. A zombie counts as gone: when
// the parent was killed, reaping is up to whoever adopted the process.
func processGone(pid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain ") ".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	state := b[i+2]
	return state == 'Z' || state == 'X', nil
}
