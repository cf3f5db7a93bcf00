// Package serverproc runs the servers the distributed engines' tests and
// examples need (redis-server, etcd, PostgreSQL) as child processes on
// 127.0.0.1: free ports, a temporary directory, their own process group,
// killed with their parent; as an unprivileged user when the spec asks and
// the tests run as root. It also holds Proxy, which stalls one client's
// connection the way a network partition would.
package serverproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrMissing is matched by Start's error when the server's binary is not
// installed; the message names the Debian package that provides it.
var ErrMissing = errors.New("server binary not installed")

// Spec says how to run one kind of server.
type Spec struct {
	Binary  string // the program, looked up in PATH (or a path): "redis-server"
	Package string // the Debian package that provides it: "redis-server"
	Ports   int    // free ports it needs; the first is the one clients dial
	// Args returns the program's arguments for its ports and data directory.
	Args func(ports []int, dir string) []string
	// Search lists directories (glob patterns) where the binary is looked
	// for when it is not in PATH, the last match first:
	// "/usr/lib/postgresql/*/bin".
	Search []string
	// Init, when not nil, returns a command run once in the new data
	// directory before the first start (its program beside the binary, bin
	// being the binary's directory): initdb.
	Init func(bin, dir string) []string
	// Ready, when not nil, returns a command that exits with 0 once the
	// server accepts work, tried after its port accepts connections:
	// pg_isready, since PostgreSQL listens before it has recovered.
	Ready func(bin string, ports []int, dir string) []string
	// Unprivileged runs Init, Ready and the server as the user nobody (its
	// directory owned by nobody) when the tests run as root: PostgreSQL
	// refuses to run as root.
	Unprivileged bool
	// Stop, when not zero, is the signal Stop sends the server first, for a
	// server whose children leave its process group and must be stopped by
	// the server itself: PostgreSQL's backends each lead a session of their
	// own, and its SIGQUIT (an immediate shutdown, as after a crash: no
	// checkpoint, recovery at the next start) ends them before the
	// postmaster exits. A server that has not exited within 10 seconds is
	// killed.
	Stop syscall.Signal
}

// Server is a running (or stopped) child server.
type Server struct {
	spec  Spec
	path  string
	Ports []int  // the ports it listens on, the client port first
	Dir   string // its temporary data directory

	user *ids // nil: run as the tests' user

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
}

// Start looks up spec's binary, picks free ports and a temporary directory,
// and starts the server, waiting until its client port accepts connections.
func Start(spec Spec) (*Server, error) {
	path, err := lookPath(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (Debian package %s)", spec.Binary, ErrMissing, spec.Package)
	}
	dir, err := os.MkdirTemp("", "mixin-"+filepath.Base(spec.Binary)+"-")
	if err != nil {
		return nil, err
	}
	s := &Server{spec: spec, path: path, Dir: dir}
	if spec.Unprivileged && os.Geteuid() == 0 {
		if s.user, err = unprivileged(dir); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	for range max(spec.Ports, 1) {
		p, err := FreePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		s.Ports = append(s.Ports, p)
	}
	if spec.Init != nil {
		if err := s.run(spec.Init(s.bin(), dir), "init"); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.Restart(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// bin is the directory of the server's binary, symbolic links followed: where
// its companion programs (initdb, pg_isready) are.
func (s *Server) bin() string {
	if p, err := filepath.EvalSymlinks(s.path); err == nil {
		return filepath.Dir(p)
	}
	return filepath.Dir(s.path)
}

// lookPath finds spec's binary in PATH, else in the directories of
// spec.Search, the last match first (the newest version, as the glob sorts).
func lookPath(spec Spec) (string, error) {
	path, err := exec.LookPath(spec.Binary)
	if err == nil {
		return path, nil
	}
	for _, pattern := range spec.Search {
		dirs, _ := filepath.Glob(pattern)
		for i := len(dirs) - 1; i >= 0; i-- {
			if p, lerr := exec.LookPath(filepath.Join(dirs[i], spec.Binary)); lerr == nil {
				return p, nil
			}
		}
	}
	return "", err
}

// ids are a user's and its group's.
type ids struct{ uid, gid int }

// unprivileged returns the ids of the user nobody, and makes dir theirs.
func unprivileged(dir string) (*ids, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("a user to run the server as (root may not): %w", err)
	}
	uid, uerr := strconv.ParseUint(u.Uid, 10, 32)
	gid, gerr := strconv.ParseUint(u.Gid, 10, 32)
	if uerr != nil || gerr != nil {
		return nil, fmt.Errorf("user nobody has ids %q and %q", u.Uid, u.Gid)
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &ids{int(uid), int(gid)}, nil
}

// command is argv as a child of the tests, as the server's user, in its
// directory.
func (s *Server) command(argv []string, out *os.File) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr(s.user)
	return cmd
}

// run runs argv to its end, its output in the server's log; what names it
// in an error.
func (s *Server) run(argv []string, what string) error {
	log, logPath, err := s.log()
	if err != nil {
		return err
	}
	defer log.Close()
	if err := s.command(argv, log).Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", s.spec.Binary, what, err, tail(logPath))
	}
	return nil
}

// log opens the server's log file for appending.
func (s *Server) log() (*os.File, string, error) {
	logPath := filepath.Join(s.Dir, filepath.Base(s.spec.Binary)+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	return log, logPath, err
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
// until it accepts connections, for up to 15 seconds. A server that exits
// before it listens is started again, after a pause, until then: what the
// previous run held can outlive its processes by a moment under load
// (PostgreSQL refuses to start while a backend of the stopped server still
// holds its shared memory: "pre-existing shared memory block is still in
// use"); the error names the last exit.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("%s is running", s.spec.Binary)
	}
	log, logPath, err := s.log()
	if err != nil {
		return err
	}
	defer log.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		cmd, exited, err := s.start(log, logPath, deadline)
		if err == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		if cmd != nil || time.Now().Add(200*time.Millisecond).After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// start runs the server once and waits until it accepts connections or
// the deadline passes. It returns the running command, or an error: with
// a nil command when the server exited by itself before it listened (worth
// another try), with the killed command when the deadline passed.
func (s *Server) start(log *os.File, logPath string, deadline time.Time) (*exec.Cmd, chan error, error) {
	cmd := s.command(append([]string{s.path}, s.spec.Args(s.Ports, s.Dir)...), log)
	if err := cmd.Start(); err != nil {
		return cmd, nil, err
	}
	exited := make(chan error, 1)
	go reap(cmd, exited)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			if s.ready(log) {
				return cmd, exited, nil
			}
		}
		select {
		case werr := <-exited:
			gone(cmd)
			return nil, nil, fmt.Errorf("%s exited before it listened (%v): %s", s.spec.Binary, werr, tail(logPath))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			kill(cmd)
			<-exited
			return cmd, nil, fmt.Errorf("%s did not listen on %s within 15s: %s", s.spec.Binary, s.Addr(), tail(logPath))
		}
	}
}

// ready reports whether the server accepts work: Ready's command exits
// with 0, or there is none.
func (s *Server) ready(log *os.File) bool {
	if s.spec.Ready == nil {
		return true
	}
	return s.command(s.spec.Ready(s.bin(), s.Ports, s.Dir), log).Run() == nil
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
	if s.spec.Stop != 0 && s.cmd.Process.Signal(s.spec.Stop) == nil {
		select {
		case err := <-s.exited:
			s.exited <- err // for the wait below
		case <-time.After(10 * time.Second):
		}
	}
	kill(s.cmd)
	<-s.exited
	gone(s.cmd)
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
