package sdk

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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

// killTree kills cmd's process group with SIGKILL: the plugin (a group
// leader, see configureChild) and whatever it started that stayed in its
// group. A group id stays in use while any member lives, so it cannot name
// another process's group; with no member left, there is nothing to kill.
func killTree(cmd *exec.Cmd) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	err := cmd.Process.Kill() // through its pidfd: never a reused pid
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// openNoFollow opens path for reading, refusing a symlink as the last
// element. O_NONBLOCK keeps a named pipe put in the executable's place from
// blocking the open; it does nothing to a regular file.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, symlinkError(path)
	}
	return f, err
}

// procFD is where a child finds its own descriptors.
const procFD = "/proc/self/fd"

// runPinned makes cfg.Cmd run exe itself rather than whatever its path names
// by the time the child starts: exe is passed to the child as an extra
// descriptor, and the child executes /proc/self/fd/N, which the kernel
// resolves after the descriptors are in place. It returns no go-plugin
// SecureConfig: that would hash the parent's /proc/self/fd/N, another file.
func runPinned(cfg *LaunchConfig, exe *os.File) (*plugin.SecureConfig, error) {
	if _, err := os.Stat(procFD); err != nil {
		return nil, fmt.Errorf("a pinned plugin runs from %s, which is missing: mount /proc: %w", procFD, err)
	}
	cmd := cfg.Cmd
	if len(cmd.Args) == 0 {
		cmd.Args = []string{cmd.Path}
	}
	// ExtraFiles[i] is descriptor 3+i in the child.
	fdPath := fmt.Sprintf("%s/%d", procFD, 3+len(cmd.ExtraFiles))
	cmd.ExtraFiles = append(cmd.ExtraFiles, exe)
	cfg.Logger = fdLogger{Logger: cfg.Logger, fdPath: fdPath, path: cmd.Path}
	cmd.Path = fdPath // Args[0] keeps the real path, for ps and the plugin's own messages
	return nil, nil
}

// fdLogger shows the executable's path where go-plugin, which knows only
// cmd.Path, would show the descriptor the plugin runs from: in the name of
// the plugin's log lines and in its start and exit messages.
type fdLogger struct {
	hclog.Logger
	fdPath, path string
}

func (l fdLogger) Named(name string) hclog.Logger {
	if name == filepath.Base(l.fdPath) {
		name = filepath.Base(l.path)
	}
	return l.Logger.Named(name)
}

func (l fdLogger) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(level, msg, l.rename(args)...)
}
func (l fdLogger) Trace(msg string, args ...any) { l.Logger.Trace(msg, l.rename(args)...) }
func (l fdLogger) Debug(msg string, args ...any) { l.Logger.Debug(msg, l.rename(args)...) }
func (l fdLogger) Info(msg string, args ...any)  { l.Logger.Info(msg, l.rename(args)...) }
func (l fdLogger) Warn(msg string, args ...any)  { l.Logger.Warn(msg, l.rename(args)...) }
func (l fdLogger) Error(msg string, args ...any) { l.Logger.Error(msg, l.rename(args)...) }

func (l fdLogger) rename(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if a == any(l.fdPath) {
			a = l.path
		}
		out[i] = a
	}
	return out
}
