package disttest

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// Found is the server an engine's tests run against: one they started, or
// a deployment of the user's that an environment variable names.
type Found struct {
	Addr    string
	Server  *serverproc.Server // nil for a deployment of the user's
	env     string
	missing string // why there is none: the tests skip with it
}

// Find takes the address the environment variable env names, or starts
// spec's server on 127.0.0.1. A missing binary is noted for Need; any other
// failure to start ends the test binary.
func Find(spec serverproc.Spec, env string) Found {
	f := Found{Addr: os.Getenv(env), env: env}
	if f.Addr != "" {
		return f
	}
	s, err := serverproc.Start(spec)
	switch {
	case errors.Is(err, serverproc.ErrMissing):
		f.missing = err.Error()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
		f.Server, f.Addr = s, s.Addr()
	}
	return f
}

// Need skips a test when there is no server to run it against.
func (f Found) Need(t testing.TB) {
	t.Helper()
	if f.Addr == "" {
		t.Skipf("no server: %s; install it, or set %s to a deployment's address", f.missing, f.env)
	}
}

// Main runs the tests, checks with goleak that they left no goroutine
// behind (beyond those opts ignore), stops the server and exits.
func (f Found) Main(m *testing.M, opts ...goleak.Option) {
	opts = append(opts, goleak.IgnoreAnyFunction(serverproc.Reaper), goleak.Cleanup(func(code int) {
		if f.Server != nil {
			_ = f.Server.Close()
		}
		os.Exit(code)
	}))
	goleak.VerifyTestMain(m, opts...)
}
