package disttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// Condition is one thing a network or a server does to a client: made on
// the proxy between the roles' clients and the server, or on the server
// itself. The generated battery (Conditions) makes each once, with every
// role playing under it, and checks each role's promise.
type Condition struct {
	Name string
	// Does says what the condition does, for the tables people read.
	Does string
	// Server: the condition is made on the server, which the tests must
	// have started (against a deployment of the user's it skips).
	Server bool
	// Make makes the condition, with p the proxy every role's handle under
	// the condition dials; it returns what ends it.
	Make func(t testing.TB, e Engine, p *serverproc.Proxy) (heal func())
}

// conditions is the table of conditions every engine meets; an engine adds
// its own (Engine.Conditions: compaction, FLUSHALL).
func conditions(e Engine) []Condition {
	half := e.Lease / 2
	proxied := func(name, does string, make func(p *serverproc.Proxy), heal func(p *serverproc.Proxy)) Condition {
		return Condition{Name: name, Does: does, Make: func(_ testing.TB, _ Engine, p *serverproc.Proxy) func() {
			make(p)
			return func() { heal(p) }
		}}
	}
	return []Condition{
		proxied("late-answers", fmt.Sprintf("the server's answers arrive %v late (half the lease): a slow return path", half),
			func(p *serverproc.Proxy) { p.Delay(serverproc.ToClient, half) },
			func(p *serverproc.Proxy) { p.Delay(serverproc.ToClient, 0) }),
		proxied("late-requests", fmt.Sprintf("the client's requests arrive %v late", half),
			func(p *serverproc.Proxy) { p.Delay(serverproc.ToServer, half) },
			func(p *serverproc.Proxy) { p.Delay(serverproc.ToServer, 0) }),
		proxied("requests-held", "the client's requests are held (the server's answers to what it had still arrive): an asymmetric partition",
			func(p *serverproc.Proxy) { p.Hold(serverproc.ToServer) }, (*serverproc.Proxy).Resume),
		proxied("partition", "every byte both ways is held, nothing is refused: a partition",
			(*serverproc.Proxy).Stall, (*serverproc.Proxy).Resume),
		proxied("silence", "the connections open go silent for good, with no reset; new ones work: a NAT or load balancer that dropped the flows",
			(*serverproc.Proxy).Silence, func(*serverproc.Proxy) {}),
		proxied("drop", "every connection is closed and new ones refused: a blip",
			(*serverproc.Proxy).Cut, (*serverproc.Proxy).Resume),
		{Name: "server-paused", Does: "the server's process is stopped (SIGSTOP) with its connections open: a long pause",
			Server: true, Make: func(t testing.TB, e Engine, _ *serverproc.Proxy) func() {
				require.NoError(t, e.Server.Pause())
				return func() { require.NoError(t, e.Server.Continue()) }
			}},
		{Name: "server-restarted", Does: "the server is killed and started again, with what it persists (Redis here: nothing; etcd: everything)",
			Server: true, Make: func(t testing.TB, e Engine, _ *serverproc.Proxy) func() {
				e.Server.Stop()
				return func() { require.NoError(t, e.Server.Restart()) }
			}},
	}
}

// Role is what a handle is doing when a condition comes.
type Role struct {
	Name string
	// Play sets the role up before the condition (its handles under the
	// condition dial at); during runs while the condition lasts, after once
	// it has ended, and checks the role's promise within bound.
	Play func(t *testing.T, s *Scene) (during, after func(t *testing.T))
}

// Scene is one condition made once, with every role playing under it.
type Scene struct {
	E Engine
	// At is the address the handles under the condition dial.
	At string
	// Bound is how long after the condition ends a role may take to keep
	// its promise.
	Bound time.Duration
}

// batteryLease is the shortest lease the battery gives its handles.
const batteryLease = time.Second

// sceneTimeout bounds the calls made without a ctx by the scenes' handles.
const sceneTimeout = 500 * time.Millisecond

// roles is the table of roles.
var roles = []Role{
	{"holding", holding},
	{"refreshing-contended", refreshingContended},
	{"waiting", waiting},
	{"releasing", releasing},
	{"event-waiting", eventWaiting},
}

// holding: a handle holds the lock through the condition, uncontended.
// Afterwards it either still holds it (the server agrees) or was told it
// lost it; it releases, and another handle acquires within the bound.
func holding(t *testing.T, s *Scene) (during, after func(*testing.T)) {
	name := Unique(t)
	h := s.E.NewLock(t, s.At, name, s.E.Lease, sceneTimeout)
	hist := &History{}
	hold, err := hist.Acquire(context.Background(), "holder", h)
	require.NoError(t, err)
	require.NotNil(t, hold)
	return func(*testing.T) {}, func(t *testing.T) {
		// A lost lease, or a server error: the key expires. The release is
		// bounded by the handle's timeout.
		_ = hist.Release(context.Background(), hold, h)
		ctx, cancel := context.WithTimeout(context.Background(), s.Bound)
		defer cancel()
		other := s.E.NewLock(t, s.E.Addr, name, s.E.Lease, sceneTimeout)
		otherHold, err := hist.Acquire(ctx, "other", other)
		require.NoError(t, err, "another handle acquires within %v of the condition's end", s.Bound)
		require.NotNil(t, otherHold)
		cleanRelease(t, hist.Release(ctx, otherHold, other))
		hist.Check(t)
		hist.CheckLinearizable(t)
	}
}

// refreshingContended: a handle holds the lock through the condition (its
// refreshes meet it) while another handle waits for it on a clean path.
// No two holders at once by their own knowledge; the waiter acquires
// within the bound.
func refreshingContended(t *testing.T, s *Scene) (during, after func(*testing.T)) {
	name := Unique(t)
	h := s.E.NewLock(t, s.At, name, s.E.Lease, sceneTimeout)
	other := s.E.NewLock(t, s.E.Addr, name, s.E.Lease, sceneTimeout)
	hist := &History{}
	hold, err := hist.Acquire(context.Background(), "holder", h)
	require.NoError(t, err)
	require.NotNil(t, hold)
	ctx, cancel := context.WithCancel(context.Background())
	taken := make(chan error, 1)
	var otherHold *Hold
	go func() {
		var err error
		otherHold, err = hist.Acquire(ctx, "other", other)
		taken <- err
	}()
	return func(*testing.T) {}, func(t *testing.T) {
		defer cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), s.Bound)
		defer rcancel()
		if lg, ok := h.(Losing); ok {
			hold.Lost, _ = lg.LostAt()
		}
		_ = hist.Release(context.Background(), hold, h) // bounded by the handle's timeout
		select {
		case err := <-taken:
			require.NoError(t, err)
		case <-time.After(s.Bound):
			t.Fatalf("the waiter did not acquire within %v of the condition's end", s.Bound)
		}
		cleanRelease(t, hist.Release(rctx, otherHold, other))
		hist.Check(t)
		hist.CheckLinearizable(t)
	}
}

// waiting: a handle waits in Acquire under the condition while another
// holds the lock on a clean path; the holder releases once the condition
// has ended, and the waiter acquires within the bound (it never gives up
// while its ctx lasts).
func waiting(t *testing.T, s *Scene) (during, after func(*testing.T)) {
	name := Unique(t)
	holder := s.E.NewLock(t, s.E.Addr, name, s.E.Lease, sceneTimeout)
	w := s.E.NewLock(t, s.At, name, s.E.Lease, sceneTimeout)
	hist := &History{}
	hold, err := hist.Acquire(context.Background(), "holder", holder)
	require.NoError(t, err)
	require.NotNil(t, hold)
	ctx, cancel := context.WithCancel(context.Background())
	taken := make(chan error, 1)
	var wHold *Hold
	go func() {
		var err error
		wHold, err = hist.Acquire(ctx, "waiter", w)
		taken <- err
	}()
	time.Sleep(50 * time.Millisecond) // waiting
	return func(*testing.T) {}, func(t *testing.T) {
		defer cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), s.Bound)
		defer rcancel()
		_ = hist.Release(context.Background(), hold, holder) // the server may have lost it (a restart)
		select {
		case err := <-taken:
			require.NoError(t, err, "the waiting Acquire never gives up while its ctx lasts")
		case <-time.After(s.Bound):
			t.Fatalf("the waiter did not acquire within %v of the condition's end", s.Bound)
		}
		cleanRelease(t, hist.Release(rctx, wHold, w))
		hist.Check(t)
		hist.CheckLinearizable(t)
	}
}

// cleanRelease checks the release of a hold taken after the condition, or
// on a clean path: nil, or a lease lost meanwhile (a machine shared with
// other builds can stall the process past a lease: safe, and not what the
// scene is about), which is logged.
func cleanRelease(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, adapters.ErrLockLost) {
		t.Logf("a hold taken on a clean path lost its lease before its release: %v", err)
		return
	}
	require.NoError(t, err)
}

// releasing: a handle releases under the condition: the release returns
// within the bound (with an error or not), and another handle acquires
// within the bound once the condition has ended.
func releasing(t *testing.T, s *Scene) (during, after func(*testing.T)) {
	name := Unique(t)
	h := s.E.NewLock(t, s.At, name, s.E.Lease, sceneTimeout)
	hist := &History{}
	hold, err := hist.Acquire(context.Background(), "holder", h)
	require.NoError(t, err)
	require.NotNil(t, hold)
	released := make(chan struct{})
	return func(*testing.T) {
			go func() {
				defer close(released)
				_ = hist.Release(context.Background(), hold, h) // bounded by the handle's timeout
			}()
		}, func(t *testing.T) {
			select {
			case <-released:
			case <-time.After(s.Bound):
				t.Fatalf("the release did not return within %v", s.Bound)
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.Bound)
			defer cancel()
			other := s.E.NewLock(t, s.E.Addr, name, s.E.Lease, sceneTimeout)
			otherHold, err := hist.Acquire(ctx, "other", other)
			require.NoError(t, err, "another handle acquires within %v of the condition's end", s.Bound)
			require.NotNil(t, otherHold)
			cleanRelease(t, hist.Release(ctx, otherHold, other))
			hist.Check(t)
			hist.CheckLinearizable(t)
		}
}

// eventWaiting: a WaitForNext waits under the condition, a Set is made on
// a clean path while it lasts (tried again until it lands, for the
// conditions made on the server), and the waiter wakes with its value
// within the bound of the condition's end.
func eventWaiting(t *testing.T, s *Scene) (during, after func(*testing.T)) {
	name := Unique(t)
	waiter := s.E.NewEvent(t, s.At, name, sceneTimeout)
	setter := s.E.NewEvent(t, s.E.Addr, name, sceneTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := waiter.WaitForNext(ctx)
		got <- result{v, err}
	}()
	time.Sleep(Settle) // waiting
	set := make(chan error, 1)
	return func(*testing.T) {
			go func() {
				deadline := time.Now().Add(s.Bound)
				for {
					sctx, scancel := context.WithTimeout(ctx, sceneTimeout)
					err := setter.SetContext(sctx, "set under the condition")
					scancel()
					if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
						set <- err
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}, func(t *testing.T) {
			defer cancel()
			require.NoError(t, <-set, "the Set lands within %v", s.Bound)
			select {
			case r := <-got:
				require.NoError(t, r.err)
				assert.Equal(t, "set under the condition", r.v)
			case <-time.After(s.Bound):
				t.Fatalf("the waiter did not wake within %v of the condition's end", s.Bound)
			}
		}
}

// stress is how many times each scene runs: MIXIN_STRESS=n, 1 without it.
func stress() int {
	n, err := strconv.Atoi(os.Getenv("MIXIN_STRESS"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// ErrKnown is what a cell of the battery whose promise the engine is known
// not to keep (Engine.Known says why) is skipped with.
var ErrKnown = errors.New("known not to hold")

// length is how long a condition lasts, as a share of the engine's lease.
type length struct {
	name       string
	num, denom time.Duration
}

// allLengths are the lengths a condition is made for: two leases (a
// holder's refreshes all meet it, its lease runs out under it), and a fifth
// of the lease (it passes between two refreshes).
var allLengths = []length{{"long", 2, 1}, {"brief", 1, 5}}

// lengths are the lengths every condition is made for: the long one; with
// MIXIN_STRESS, all.
func lengths() []length {
	if os.Getenv("MIXIN_STRESS") != "" {
		return allLengths
	}
	return allLengths[:1]
}

// conditionsBattery makes each condition (for each length, MIXIN_STRESS
// times), with every role playing under it, and checks each role's
// promise: the generated battery. Each scene's roles are subtests named
// condition/length/role; the holds of each are checked by their holders'
// knowledge (History.Check) and their operations for linearizability
// against the lock's model (History.CheckLinearizable).
func conditionsBattery(t *testing.T, e Engine) {
	// Leases of at least a second: a machine shared with other builds
	// stalls a test process for tens of milliseconds, which a holder on a
	// clean path would not survive on a shorter lease.
	e.Lease = max(e.Lease, batteryLease)
	all := append(conditions(e), e.Conditions...)
	bound := 4 * (e.Lease + e.Grace)
	checkTable(t, all, e.Known)
	for _, c := range all {
		t.Run(c.Name, func(t *testing.T) {
			if c.Server && e.Server == nil {
				t.Skip("the condition is made on the server: it runs only against the one the tests start")
			}
			for _, l := range lengths() {
				t.Run(l.name, func(t *testing.T) {
					for i := range stress() {
						if stress() > 1 {
							t.Logf("round %d", i+1)
						}
						scene(t, e, c, e.Lease*l.num/l.denom, bound)
					}
				})
			}
		})
	}
}

// checkTable fails the test when two conditions share a name, one says
// nothing of what it does, or an entry of Engine.Known names no cell of the
// battery (a condition, length or role renamed or gone): a known failure
// that nothing runs would hide a cell.
func checkTable(t *testing.T, all []Condition, knownCells map[string]string) {
	t.Helper()
	cells := map[string]bool{}
	for _, c := range all {
		assert.False(t, cells[c.Name], "two conditions named %q", c.Name)
		assert.NotEmpty(t, c.Does, "condition %q says what it does", c.Name)
		for _, r := range roles {
			cells[c.Name+"/"+r.Name] = true
			for _, l := range allLengths {
				cells[c.Name+"/"+l.name+"/"+r.Name] = true
			}
		}
	}
	for cell := range knownCells {
		assert.True(t, cells[cell], "Engine.Known names %q, which is no cell of the battery", cell)
	}
}

// known returns why the engine is known not to keep role's promise under
// condition c made for length l, or "": Engine.Known's entry for
// "condition/length/role", or else for "condition/role".
func known(e Engine, c Condition, l, role string) string {
	if why := e.Known[c.Name+"/"+l+"/"+role]; why != "" {
		return why
	}
	return e.Known[c.Name+"/"+role]
}

// scene makes condition c once, for lasting, with every role under it.
func scene(t *testing.T, e Engine, c Condition, lasting, bound time.Duration) {
	p, err := serverproc.NewProxy(e.Addr)
	require.NoError(t, err)
	defer p.Close()
	s := &Scene{E: e, At: p.Addr(), Bound: bound}
	type played struct {
		role          Role
		during, after func(*testing.T)
	}
	var cast []played
	l := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
	for _, r := range roles {
		if why := known(e, c, l, r.Name); why != "" {
			t.Run(r.Name, func(t *testing.T) { t.Skipf("%v on this engine: %s", ErrKnown, why) })
			continue
		}
		during, after := r.Play(t, s)
		cast = append(cast, played{r, during, after})
	}
	heal := c.Make(t, e, p)
	healed := false
	defer func() {
		if !healed {
			heal()
		}
	}()
	time.Sleep(lasting / 3) // into the condition
	for _, pl := range cast {
		pl.during(t)
	}
	time.Sleep(lasting - lasting/3)
	heal()
	healed = true
	for _, pl := range cast {
		t.Run(pl.role.Name, pl.after)
	}
}
