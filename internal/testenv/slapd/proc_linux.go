package slapd

import (
	"os/exec"
	"syscall"
)

// setParentDeath has the kernel kill slapd when the test binary dies, so a
// crashed test leaves no server behind.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
