//go:build !linux

package mqttserver

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
