package serverproc

import (
	"os/exec"
	"syscall"
)

// childAttr puts the child in its own process group and has the kernel kill
// it when its parent dies, so that a killed test leaves no server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// kill kills the child's process group.
func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

// pause stops (SIGSTOP) or continues (SIGCONT) the child's process group.
func pause(cmd *exec.Cmd, stop bool) error {
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}
