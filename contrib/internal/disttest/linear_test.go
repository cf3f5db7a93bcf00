package disttest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLockStep: the lock's model, step by step (the checker itself runs in
// the engines' modules, which take porcupine).
func TestLockStep(t *testing.T) {
	free, heldA := LockState{Token: 1}, LockState{Holder: "a", Token: 1}
	acq := func(who string, tok int64) Op { return Op{Who: who, Kind: OpAcquire, Outcome: Done, Token: tok} }
	op := func(who string, k OpKind, o Outcome) Op { return Op{Who: who, Kind: k, Outcome: o} }
	for _, c := range []struct {
		name string
		from LockState
		op   Op
		want []any
	}{
		{"acquire a free lock", free, acq("b", 2), []any{LockState{Holder: "b", Token: 2}}},
		{"acquire a held lock", heldA, acq("b", 2), nil},
		{"acquire with a token not larger", free, acq("b", 1), nil},
		{"acquire of unknown outcome on a free lock", free, op("b", OpAcquire, Unknown), []any{free, LockState{Holder: "b", Token: 1}}},
		{"acquire of unknown outcome on a held lock", heldA, op("b", OpAcquire, Unknown), []any{heldA}},
		{"release by the holder", heldA, op("a", OpRelease, Done), []any{free}},
		{"release by another", heldA, op("b", OpRelease, Done), nil},
		{"release that found the lease lost, while held", heldA, op("a", OpRelease, Lost), nil},
		{"release that found the lease lost, after its end", free, op("a", OpRelease, Lost), []any{free}},
		{"release of unknown outcome", heldA, op("a", OpRelease, Unknown), []any{heldA, free}},
		{"lease end of the holder", heldA, op("a", OpLeaseEnd, Done), []any{free}},
		{"lease end of another", heldA, op("b", OpLeaseEnd, Done), []any{heldA}},
	} {
		assert.Equal(t, c.want, LockStep(c.from, c.op, nil), c.name)
	}
	assert.Equal(t, []any{LockState{}}, LockInit())
	assert.Equal(t, "a acquire -> token 2", DescribeOp(acq("a", 2), nil))
	assert.Equal(t, "b release -> lost", DescribeOp(op("b", OpRelease, Lost), nil))
	assert.Equal(t, "held by a (token 1)", DescribeLock(heldA))
}

// fake is a Lock whose Release returns err.
type fake struct{ err error }

func (fake) Acquire(context.Context) (bool, error)       { return true, nil }
func (fake) TryAcquire(context.Context) (bool, error)    { return true, nil }
func (f fake) Release(context.Context) error             { return f.err }
func (fake) Locked() bool                                { return false }
func (fake) LockedContext(context.Context) (bool, error) { return false, nil }
func (fake) IsOwner(context.Context) bool                { return false }
func (fake) HeldContext(context.Context) (bool, error)   { return false, nil }
func (fake) Lost() <-chan struct{}                       { return nil }
func (fake) Token() (int64, bool)                        { return 7, true }

// TestHistoryRecordsTheLeaseEndAndUnknownOutcomes: a release that found the
// lease lost records the lease's end, from the acquisition to the moment
// the holder was told; a release that failed otherwise is pending; each
// handle is a client of its own.
func TestHistoryRecordsTheLeaseEndAndUnknownOutcomes(t *testing.T) {
	h := &History{}
	ctx := context.Background()
	lost := fake{fmt.Errorf("release: %w", adapters.ErrLockLost)}
	hold, err := h.Acquire(ctx, "a", lost)
	require.NoError(t, err)
	require.ErrorIs(t, h.Release(ctx, hold, lost), adapters.ErrLockLost)
	broken := fake{errors.New("connection reset")}
	require.Error(t, h.Release(ctx, h.Acquired("b", broken), broken))
	ops := h.Ops()
	require.Len(t, ops, 5)
	assert.Equal(t, Op{Who: "a", Kind: OpAcquire, Outcome: Done, Token: 7, Call: ops[0].Call, Return: ops[0].Return}, ops[0])
	assert.Equal(t, OpRelease, ops[1].Kind)
	assert.Equal(t, Lost, ops[1].Outcome)
	assert.Equal(t, OpLeaseEnd, ops[2].Kind)
	assert.Equal(t, ops[0].Call, ops[2].Call, "the lease ended after the Acquire was called")
	assert.Equal(t, ops[1].Return, ops[2].Return, "and before the holder was told")
	assert.Equal(t, 1, ops[3].Client, "b")
	assert.Equal(t, Unknown, ops[4].Outcome)
	assert.Equal(t, int64(pending), ops[4].Return)
}
