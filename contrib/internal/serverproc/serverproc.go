// Package serverproc runs the servers the distributed engines' tests and
// examples need (redis-server, etcd) as child processes on 127.0.0.1: free
// ports, a temporary directory, their own process group, killed with their
// parent. It also holds Proxy, which stalls one client's connection the way
// a network partition would.
package serverproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrMissing is matched by Start's error when the server's binary is not
// installed; the message names the Debian package that provides it.
var ErrMissing = errors.New("server binary not installed")

// Spec says how to run one kind of server.
type Spec struct {
	Binary  string // the program, looked up in PATH: "redis-server"
	Package string // the Debian package that provides it: "redis-server"
	Ports   int    // free ports it needs; the first is the one clients dial
	// Args returns the program's arguments for its ports and data directory.
	Args func(ports []int, dir string) []string
}

// Server is a running (or stopped) child server.
type Server struct {
	spec  Spec
	path  string
	Ports []int  // the ports it listens on, the client port first
	Dir   string // its temporary data directory

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
}

// Start looks up spec's binary, picks free ports and a temporary directory,
// and starts the server, waiting until its client port accepts connections.
func Start(spec Spec) (*Server, error) {
	path, err := exec.LookPath(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (Debian package %s)", spec.Binary, ErrMissing, spec.Package)
	}
	dir, err := os.MkdirTemp("", "mixin-"+spec.Binary+"-")
	if err != nil {
		return nil, err
	}
	s := &Server{spec: spec, path: path, Dir: dir}
	for range max(spec.Ports, 1) {
		p, err := FreePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		s.Ports = append(s.Ports, p)
	}
	if err := s.Restart(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listened on a moment
// ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the client address, 127.0.0.1:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Ports[0]) }

// Restart starts the server (again) on its ports and directory, and waits
// until it accepts connections, for up to 15 seconds.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("%s is running", s.spec.Binary)
	}
	logPath := filepath.Join(s.Dir, s.spec.Binary+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(s.path, s.spec.Args(s.Ports, s.Dir)...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go reap(cmd, exited)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("%s exited before it listened (%v): %s", s.spec.Binary, werr, tail(logPath))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			kill(cmd)
			<-exited
			return fmt.Errorf("%s did not listen on %s within 15s: %s", s.spec.Binary, s.Addr(), tail(logPath))
		}
	}
}

// Reaper names the goroutine that waits for a running server to exit, for
// goleak.IgnoreAnyFunction in a TestMain that stops its server after the
// leak check.
const Reaper = "github.com/gomixin/mixin/contrib/internal/serverproc.reap"

// reap waits for the server to exit.
func reap(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }

// Stop kills the server (its whole process group) and waits for it to exit.
// Its directory stays, for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	kill(s.cmd)
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Pause stops the server's processes (SIGSTOP) until Continue: a server
// that hangs (a long GC, a stalled disk, a VM paused) with its connections
// open and silent.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("%s is not running", s.spec.Binary)
	}
	return pause(s.cmd, true)
}

// Continue resumes a paused server.
func (s *Server) Continue() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("%s is not running", s.spec.Binary)
	}
	return pause(s.cmd, false)
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	s.Stop()
	return os.RemoveAll(s.Dir)
}

// tail returns the end of a log file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}
