//go:build !linux

package serverproc

import (
	"errors"
	"os/exec"
	"syscall"
)

// childAttr: no parent-death signal outside Linux, and no other user: Stop
// and Close still kill the child; a server that refuses root does not start
// there as root.
func childAttr(*ids) *syscall.SysProcAttr { return nil }

// kill kills the child.
func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// gone: the child was waited for.
func gone(*exec.Cmd) {}

// pause: not offered outside Linux.
func pause(*exec.Cmd, bool) error { return errors.New("serverproc: Pause is offered on Linux only") }
