package redisserver

import (
	"os/exec"
	"syscall"
)

// setPdeathsig kills redis-server if the test process dies first.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
