package testenv

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill the server when the test binary dies, so
// a crashed test leaves no server behind, and puts the server in its own
// process group.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup kills the server and anything it started.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
