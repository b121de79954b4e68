package caddy

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill caddy when the test binary dies, and puts
// caddy in its own process group.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup kills caddy and anything it started.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
