package caddy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// packages are the Debian packages the harness needs (Debian 12 ships
// Caddy 2.6.2, with forward_auth).
var packages = []string{"caddy"}

// sbinDirs are searched besides PATH: a non-root PATH often lacks /usr/sbin.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

var (
	installOnce sync.Once
	installed   string // path of the caddy binary
	installErr  error
)

// ensureInstalled finds caddy, installing the Debian package once per
// process when it is missing.
func ensureInstalled() (string, error) {
	installOnce.Do(func() {
		if p, err := lookPath("caddy"); err == nil {
			installed = p
			return
		}
		if err := aptInstall(); err != nil {
			installErr = err
			return
		}
		installed, installErr = lookPath("caddy")
	})
	return installed, installErr
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %s", name, strings.Join(sbinDirs, ", "))
}

// policyRC is the invoke-rc.d policy that forbids starting services, so the
// package's postinst does not start a system caddy on ports 80 and 443.
const policyRC = "/usr/sbin/policy-rc.d"

// aptInstall installs the packages with apt-get. It refreshes the package
// lists only when the first attempt fails for lack of them.
func aptInstall() error {
	if os.Geteuid() != 0 {
		return errors.New("caddy is not installed and installing it needs root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("caddy is not installed and apt-get is not available")
	}
	if _, err := os.Stat(policyRC); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policyRC, []byte("#!/bin/sh\n# written by realmd's caddy test harness\nexit 101\n"), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", policyRC, err)
		}
		defer os.Remove(policyRC)
	}
	install := append([]string{"install", "-y", "-q", "--no-install-recommends"}, packages...)
	out, err := apt(install...)
	if err == nil {
		return nil
	}
	if !missingLists(out) {
		return fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(packages, " "), err, out)
	}
	if out, err := apt("update", "-q"); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	if out, err := apt(install...); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(packages, " "), err, out)
	}
	return nil
}

func apt(args ...string) (string, error) {
	// Wait for a dpkg lock held by another test process instead of failing.
	args = append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// missingLists reports whether apt-get failed because its package lists are
// empty or stale.
func missingLists(out string) bool {
	for _, s := range []string{"Unable to locate package", "has no installation candidate", "Failed to fetch", "404  Not Found"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}
