//go:build linux

package e2e

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in its own process group (so a signal sent to
// the test's group never reaches it) and kills it if the test process dies.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
