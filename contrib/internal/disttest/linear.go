package disttest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The histories the battery records are checked in two ways: by what each
// holder was told (History.Check), and for linearizability against a model
// of the lock (History.CheckLinearizable): is there an order of the
// operations, each taking effect at one moment between its call and its
// return, in which the lock had one holder at a time and each holder's
// token was larger than the one before? The checker is porcupine, which
// this module does not import (the library takes no dependency beyond the
// three it names): each engine's tests set Linearizable to an adapter of a
// few lines that hands it the model below (LockInit, LockStep,
// DescribeOp, DescribeLock) and the operations.

// OpKind is what an operation on a lock is.
type OpKind uint8

// The operations the lock's model knows.
const (
	// OpAcquire is an Acquire or TryAcquire that took the lock, or may have.
	OpAcquire OpKind = iota + 1
	// OpRelease is a Release.
	OpRelease
	// OpLeaseEnd is a lease's end, as its holder learned of it: at some
	// moment between the hold's acquisition and the moment the holder was
	// told (Lost, or a Release that said ErrLockLost), the lease ended, and
	// the lock was free if the holder still held it.
	OpLeaseEnd
)

func (k OpKind) String() string {
	switch k {
	case OpAcquire:
		return "acquire"
	case OpRelease:
		return "release"
	case OpLeaseEnd:
		return "lease end"
	}
	return "op(" + fmt.Sprint(uint8(k)) + ")"
}

// Outcome is what an operation's caller was told.
type Outcome uint8

// The outcomes.
const (
	// Done: an Acquire that returned true, a Release that returned nil, a
	// lease's end.
	Done Outcome = iota + 1
	// Lost: a Release that returned ErrLockLost: the lease had ended
	// before, the release did nothing.
	Lost
	// Unknown: the call timed out or returned an error that does not say
	// whether it took effect: the model allows both, at any moment after
	// its call (its return is the end of time).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Done:
		return "ok"
	case Lost:
		return "lost"
	case Unknown:
		return "unknown"
	}
	return "outcome(" + fmt.Sprint(uint8(o)) + ")"
}

// Op is one operation on a lock as its caller saw it, in the form a
// linearizability checker takes.
type Op struct {
	Who     string // the handle
	Client  int    // Who's index among the history's handles (for porcupine's visualization)
	Kind    OpKind
	Outcome Outcome
	Token   int64 // an acquisition's fencing token; 0 when not known
	// Call and Return are nanoseconds since the process began recording;
	// Return is math.MaxInt64 for an operation whose outcome is Unknown.
	Call, Return int64
}

// LockState is the state of the lock's model: its holder ("" when free)
// and the last fencing token handed out.
type LockState struct {
	Holder string
	Token  int64
}

// LockInit returns the lock model's initial states: free, no token yet
// (porcupine's NondeterministicModel.Init).
func LockInit() []any { return []any{LockState{}} }

// LockStep returns the states the lock's model may be in after op (an Op)
// from state (a LockState); none when op cannot take effect there
// (porcupine's NondeterministicModel.Step; the output is unused: an Op
// carries its outcome).
func LockStep(state, op, _ any) []any {
	s, o := state.(LockState), op.(Op)
	free := LockState{Token: s.Token}
	switch o.Kind {
	case OpAcquire:
		if o.Outcome == Unknown {
			if s.Holder == "" {
				return []any{s, LockState{Holder: o.Who, Token: s.Token}}
			}
			return []any{s}
		}
		if s.Holder != "" || (o.Token != 0 && o.Token <= s.Token) {
			return nil
		}
		return []any{LockState{Holder: o.Who, Token: max(o.Token, s.Token)}}
	case OpRelease:
		switch o.Outcome {
		case Done:
			if s.Holder == o.Who {
				return []any{free}
			}
			return nil
		case Lost:
			if s.Holder == o.Who {
				return nil
			}
			return []any{s}
		default:
			if s.Holder == o.Who {
				return []any{s, free}
			}
			return []any{s}
		}
	case OpLeaseEnd:
		if s.Holder == o.Who {
			return []any{free}
		}
		return []any{s}
	}
	return nil
}

// DescribeOp describes an operation (an Op) for porcupine's visualization.
func DescribeOp(op, _ any) string {
	o := op.(Op)
	if o.Kind == OpAcquire && o.Outcome == Done {
		return fmt.Sprintf("%s %s -> token %d", o.Who, o.Kind, o.Token)
	}
	return fmt.Sprintf("%s %s -> %s", o.Who, o.Kind, o.Outcome)
}

// DescribeLock describes a state (a LockState) for porcupine's
// visualization.
func DescribeLock(state any) string {
	s := state.(LockState)
	if s.Holder == "" {
		return fmt.Sprintf("free (last token %d)", s.Token)
	}
	return fmt.Sprintf("held by %s (token %d)", s.Holder, s.Token)
}

// Verdict is a linearizability checker's answer: the strings are
// porcupine's (CheckResult).
type Verdict string

// The verdicts.
const (
	Linear    Verdict = "Ok"
	NotLinear Verdict = "Illegal"
	TimedOut  Verdict = "Unknown" // the check did not end within its time
)

// Linearizable checks ops against the lock's model (LockInit, LockStep),
// giving up after timeout; when they are not linearizable it writes the
// checker's visualization to file, and returns an error if it could not.
// Each engine's tests set it (porcupine is a test dependency of their
// modules); while it is nil, histories are checked by their holders'
// knowledge only, and CheckLinearizable says so in the log.
var Linearizable func(ops []Op, timeout time.Duration, file string) (Verdict, error)

// checkTime bounds a check: past it the verdict is unknown, logged.
const checkTime = 5 * time.Second

// epoch is the origin of the operations' times.
var epoch = time.Now()

// since returns t as an operation's time.
func since(t time.Time) int64 { return int64(t.Sub(epoch)) }

// CheckLinearizable checks the history's operations for linearizability
// (Linearizable): a history that is not fails the test, naming the file
// with the checker's visualization (in os.TempDir, kept after the test); a
// check that does not end within a few seconds is logged, not failed.
func (h *History) CheckLinearizable(t testing.TB) {
	t.Helper()
	CheckOps(t, h.Ops())
}

// CheckOps is CheckLinearizable on operations given.
func CheckOps(t testing.TB, ops []Op) {
	t.Helper()
	if Linearizable == nil {
		t.Log("the history is not checked for linearizability: no checker (an engine's tests set disttest.Linearizable)")
		return
	}
	start := time.Now()
	v, file, err := check(t, ops)
	took := time.Since(start)
	switch v {
	case Linear:
		t.Logf("linearizable: %d operations checked in %v", len(ops), took.Round(time.Microsecond))
	case TimedOut:
		t.Logf("the linearizability check of %d operations did not end within %v: unknown", len(ops), checkTime)
	case NotLinear:
		if err != nil {
			t.Errorf("the history of %d operations is not linearizable (the lock's model); its visualization could not be written: %v", len(ops), err)
			return
		}
		t.Errorf("the history of %d operations is not linearizable (the lock's model): see %s", len(ops), file)
	default:
		t.Errorf("the linearizability check said %q (%v)", v, err)
	}
}

// check runs Linearizable on ops, with the file its visualization goes to
// on a failure: in os.TempDir, named after the test.
func check(t testing.TB, ops []Op) (Verdict, string, error) {
	file := filepath.Join(os.TempDir(), fmt.Sprintf("mixin-linearizability-%s-%d.html",
		strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()), time.Now().UnixNano()))
	v, err := Linearizable(ops, checkTime, file)
	return v, file, err
}

// checkerRefuses proves the linearizability check can fail: histories a
// lock must never make (two holders at once; a token smaller than the one
// before; a release that succeeds after the lease ended and another handle
// took the lock) are refused, with a visualization written, and histories
// it may make (a lease's end, acquisitions and releases of unknown
// outcome) pass.
func checkerRefuses(t *testing.T, _ Engine) {
	if Linearizable == nil {
		t.Skip("no checker: the engine's tests set disttest.Linearizable")
	}
	acq := func(who string, tok, call, ret int64) Op {
		return Op{Who: who, Kind: OpAcquire, Outcome: Done, Token: tok, Call: call, Return: ret}
	}
	op := func(who string, k OpKind, o Outcome, call, ret int64) Op {
		return Op{Who: who, Kind: k, Outcome: o, Call: call, Return: ret}
	}
	rel := func(who string, call, ret int64) Op { return op(who, OpRelease, Done, call, ret) }
	for _, c := range []struct {
		name string
		want Verdict
		ops  []Op
	}{
		{"two-holders", NotLinear, []Op{acq("a", 1, 0, 10), acq("b", 2, 20, 30), rel("a", 40, 50), rel("b", 60, 70)}},
		{"token-goes-back", NotLinear, []Op{acq("a", 5, 0, 10), rel("a", 20, 30), acq("b", 3, 40, 50), rel("b", 60, 70)}},
		{"released-after-its-lease-ended-and-b-took-it", NotLinear, []Op{acq("a", 1, 0, 10), op("a", OpLeaseEnd, Done, 10, 20),
			acq("b", 2, 30, 40), rel("a", 50, 60), rel("b", 70, 80)}},
		{"hand-over", Linear, []Op{acq("a", 1, 0, 10), rel("a", 20, 30), acq("b", 2, 25, 40), rel("b", 60, 70)}},
		{"lease-ended", Linear, []Op{acq("a", 1, 0, 10), op("a", OpLeaseEnd, Done, 5, 25), acq("b", 2, 30, 40),
			op("a", OpRelease, Lost, 45, 50), rel("b", 60, 70)}},
		{"unknown-outcomes", Linear, []Op{acq("a", 1, 0, 10), op("c", OpAcquire, Unknown, 5, pending),
			op("a", OpRelease, Unknown, 20, pending), acq("b", 2, 40, 50), rel("b", 60, 70)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &History{}
			for _, o := range c.ops {
				h.Op(o)
			}
			v, file, err := check(t, h.Ops())
			require.NoError(t, err)
			assert.Equal(t, c.want, v)
			if v == NotLinear {
				info, err := os.Stat(file)
				if assert.NoError(t, err, "the visualization is written") {
					assert.Positive(t, info.Size())
					require.NoError(t, os.Remove(file))
				}
			}
		})
	}
}

// pending is an Unknown operation's return: the end of the history.
const pending = math.MaxInt64
