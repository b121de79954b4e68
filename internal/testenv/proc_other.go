//go:build !linux

package testenv

import (
	"os"
	"os/exec"
)

func setProcAttr(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }
