package serverproc

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// childAttr puts the child in its own process group and has the kernel kill
// it when its parent dies, so that a killed test leaves no server behind;
// it runs as as, when not nil.
func childAttr(as *ids) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if as != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(as.uid), Gid: uint32(as.gid), NoSetGroups: true}
	}
	return attr
}

// kill kills the child's process group.
func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

// gone waits, for up to 5 seconds, until every process of the killed
// child's group has exited: a server's own children (PostgreSQL's backends)
// can outlive its main process by a moment, holding what a restart needs
// (PostgreSQL's shared memory).
func gone(cmd *exec.Cmd) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if errors.Is(syscall.Kill(-cmd.Process.Pid, 0), syscall.ESRCH) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pause stops (SIGSTOP) or continues (SIGCONT) the child's process group.
func pause(cmd *exec.Cmd, stop bool) error {
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}
