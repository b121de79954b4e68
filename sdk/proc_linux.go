package sdk

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks the kernel to kill the plugin when realmd dies.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
