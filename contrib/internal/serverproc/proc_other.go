//go:build !linux

package serverproc

import (
	"errors"
	"os/exec"
	"syscall"
)

// childAttr: no parent-death signal outside Linux; Stop and Close still kill
// the child.
func childAttr() *syscall.SysProcAttr { return nil }

// kill kills the child.
func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// pause: not offered outside Linux.
func pause(*exec.Cmd, bool) error { return errors.New("serverproc: Pause is offered on Linux only") }
