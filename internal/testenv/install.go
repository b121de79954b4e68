package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// sbinDirs are searched besides PATH: a non-root PATH often lacks /usr/sbin.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

// installs remembers each Install outcome, so apt-get runs at most once per
// package set and process. The lock also keeps two installs of one process
// from sharing (and removing) the same policy-rc.d.
var installs struct {
	sync.Mutex
	done map[string]installed
}

type installed struct {
	paths []string
	err   error
}

// Install returns the paths of programs, in order, each found in PATH or an
// sbin directory. When one is missing it installs the Debian packages with
// `apt-get install --no-install-recommends` (once per process), with a
// temporary /usr/sbin/policy-rc.d so that no system service starts, running
// `apt-get update` only when the install fails for lack of package lists.
// When a program is still missing the test ends through Unavailable:
// skipped, or failed under CI=true.
func Install(t testing.TB, packages []string, programs ...string) []string {
	t.Helper()
	key := strings.Join(packages, " ") + "|" + strings.Join(programs, " ")
	installs.Lock()
	r, ok := installs.done[key]
	if !ok {
		r.paths, r.err = install(packages, programs)
		if installs.done == nil {
			installs.done = make(map[string]installed)
		}
		installs.done[key] = r
	}
	installs.Unlock()
	if r.err != nil {
		Unavailable(t, "%s is not available: %v", strings.Join(programs, ", "), r.err)
	}
	return r.paths
}

func install(packages, programs []string) ([]string, error) {
	if paths, err := lookPaths(programs); err == nil {
		return paths, nil
	}
	if err := aptInstall(packages); err != nil {
		return nil, err
	}
	return lookPaths(programs)
}

func lookPaths(programs []string) ([]string, error) {
	paths := make([]string, len(programs))
	for i, name := range programs {
		p, err := lookPath(name)
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	return paths, nil
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

// policyRC is the invoke-rc.d policy that forbids starting services, so a
// package's postinst does not start a system server on its usual ports.
const policyRC = "/usr/sbin/policy-rc.d"

// aptInstall installs packages with apt-get. It refreshes the package lists
// only when the first attempt fails for lack of them.
func aptInstall(packages []string) error {
	list := strings.Join(packages, " ")
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is not installed and installing it needs root", list)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("%s is not installed and apt-get is not available", list)
	}
	if _, err := os.Stat(policyRC); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policyRC, []byte("#!/bin/sh\n# written by realmd's test harness\nexit 101\n"), 0o755); err != nil {
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
		return fmt.Errorf("apt-get install %s: %w\n%s", list, err, out)
	}
	if out, err := apt("update", "-q"); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	if out, err := apt(install...); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", list, err, out)
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
