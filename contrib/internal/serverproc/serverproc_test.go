package serverproc_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "serve-after-one-failed-start" {
		serveAfterOneFailedStart(os.Args[2], os.Args[3])
		return
	}
	goleak.VerifyTestMain(m)
}

// serveAfterOneFailedStart is a server (this test binary, run by
// serverproc) whose first start exits at once, as a PostgreSQL does while
// a backend of its previous run holds its shared memory, and whose later
// starts listen on port until killed.
func serveAfterOneFailedStart(port, dir string) {
	marker := filepath.Join(dir, "started once")
	if _, err := os.Stat(marker); err != nil {
		_ = os.WriteFile(marker, nil, 0o600)
		fmt.Println("refused: the previous run still holds what this one needs")
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(3)
		}
		c.Close()
	}
}

func TestStartTriesAgainAServerThatExitsBeforeItListens(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	s, err := serverproc.Start(serverproc.Spec{
		Binary: self, Ports: 1,
		Args: func(ports []int, dir string) []string {
			return []string{"serve-after-one-failed-start", strconv.Itoa(ports[0]), dir}
		},
	})
	require.NoError(t, err, "a start that fails at once is tried again within the deadline")
	defer s.Close()
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	c.Close()
	s.Stop()
	require.NoError(t, os.Remove(filepath.Join(s.Dir, "started once")))
	require.NoError(t, s.Restart(), "so is a restart")
}

func TestStartNamesTheDebianPackageOfAMissingBinary(t *testing.T) {
	_, err := serverproc.Start(serverproc.Spec{Binary: "no-such-server-xyz", Package: "no-such-package"})
	require.ErrorIs(t, err, serverproc.ErrMissing)
	assert.Contains(t, err.Error(), "Debian package no-such-package")
}

func TestProxyStallHoldsTrafficUntilResume(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p, err := serverproc.NewProxy(ln.Addr().String())
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()

	echo := func(msg string, within time.Duration) (string, error) {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(within))
		buf := make([]byte, len(msg))
		_, err := io.ReadFull(c, buf)
		return string(buf), err
	}
	got, err := echo("one", time.Second)
	require.NoError(t, err)
	assert.Equal(t, "one", got)

	p.Stall()
	_, err = echo("two", 100*time.Millisecond)
	require.Error(t, err, "a stalled proxy lets nothing through")
	p.Resume()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 3)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "two", string(buf), "held bytes arrive after Resume")
}

func TestProxyCutDropsConnectionsUntilResume(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p, err := serverproc.NewProxy(ln.Addr().String())
	require.NoError(t, err)
	defer p.Close()
	echo := func(c net.Conn) error {
		if _, err := c.Write([]byte("hi")); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := io.ReadFull(c, make([]byte, 2))
		return err
	}
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, echo(c))

	p.Cut()
	assert.Error(t, echo(c), "a cut connection is closed")
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	assert.Error(t, echo(c2), "a connection opened while cut is closed at once")
	c2.Close()

	p.Resume()
	c3, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c3.Close()
	assert.NoError(t, echo(c3), "after Resume, connections work")
}

// echoServer listens on 127.0.0.1 and echoes every connection.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func echo(c net.Conn, msg string, within time.Duration) (string, error) {
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

func TestProxyDelayMakesOneDirectionLate(t *testing.T) {
	p, err := serverproc.NewProxy(echoServer(t))
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = echo(c, "warm", time.Second)
	require.NoError(t, err)

	const late = 200 * time.Millisecond
	p.Delay(serverproc.ToClient, late)
	start := time.Now()
	got, err := echo(c, "late", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "late", got)
	assert.GreaterOrEqual(t, time.Since(start), late, "the answer waited in the proxy")

	p.Delay(serverproc.ToClient, 0)
	_, err = echo(c, "on time", 5*time.Second)
	assert.NoError(t, err)
}

func TestProxySilenceDropsOpenConnectionsWithoutAReset(t *testing.T) {
	p, err := serverproc.NewProxy(echoServer(t))
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = echo(c, "one", time.Second)
	require.NoError(t, err)

	p.Silence()
	_, err = echo(c, "two", 200*time.Millisecond)
	var nerr net.Error
	require.ErrorAs(t, err, &nerr, "no answer, and no reset either")
	assert.True(t, nerr.Timeout(), "the read timed out: %v", err)

	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	got, err := echo(c2, "new", time.Second)
	require.NoError(t, err, "a connection opened afterwards works")
	assert.Equal(t, "new", got)
}

func TestPostgreSQLStartsAsAnUnprivilegedUserAndRestarts(t *testing.T) {
	s, err := serverproc.Start(serverproc.PostgreSQL)
	if errors.Is(err, serverproc.ErrMissing) {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer s.Close()
	// A connection open across the stop: its backend leads a process group
	// of its own, and outlived a SIGKILL of the postmaster long enough to
	// hold the shared memory the restart needed.
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	s.Stop()
	require.NoError(t, s.Restart(), "a stopped PostgreSQL recovers and listens again")
}
