package sdk

import (
	"os/exec"
	"syscall"
)

// configureChild asks the kernel to kill the plugin when realmd dies, and
// puts the plugin in a process group of its own, so that a signal meant for
// realmd's group (Ctrl-C in a terminal, a service manager's SIGTERM) reaches
// realmd alone: realmd stops its plugins itself, after draining requests.
func configureChild(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
}
