//go:build !linux

package caddy

import (
	"os"
	"os/exec"
)

func setProcAttr(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }
