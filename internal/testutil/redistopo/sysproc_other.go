//go:build !linux

package redistopo

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
