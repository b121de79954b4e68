package nginx

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill nginx when the test binary dies, and puts
// nginx in its own process group.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup kills nginx and anything it started.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
