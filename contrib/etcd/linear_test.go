package etcd_test

import (
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// The battery's lock histories are checked for linearizability by
// porcupine, a test dependency of this module (the library's takes none):
// disttest records the operations and defines the lock's model, this hands
// them to the checker.
func init() { disttest.Linearizable = linearizable }

func linearizable(ops []disttest.Op, timeout time.Duration, file string) (disttest.Verdict, error) {
	m := (&porcupine.NondeterministicModel{Init: disttest.LockInit, Step: disttest.LockStep,
		DescribeOperation: disttest.DescribeOp, DescribeState: disttest.DescribeLock}).ToModel()
	hist := make([]porcupine.Operation, len(ops))
	for i, o := range ops {
		hist[i] = porcupine.Operation{ClientId: o.Client, Input: o, Call: o.Call, Return: o.Return}
	}
	res := porcupine.CheckOperationsTimeout(m, hist, timeout)
	if res != porcupine.Illegal {
		return disttest.Verdict(res), nil
	}
	_, info := porcupine.CheckOperationsVerbose(m, hist, timeout)
	return disttest.Verdict(res), porcupine.VisualizePath(m, info, file)
}
