package realmtest

import (
	"os"
	"os/exec"
	"testing"
)

func TestProcessGone_TellsRunningFromExited(t *testing.T) {
	if _, err := processGone(os.Getpid()); err != nil {
		t.Skipf("not supported here: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{name: "this process runs", pid: os.Getpid(), want: false},
		{name: "a reaped child is gone", pid: cmd.Process.Pid, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := processGone(tt.pid)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("processGone(%d) = %v, want %v", tt.pid, got, tt.want)
			}
		})
	}
}
