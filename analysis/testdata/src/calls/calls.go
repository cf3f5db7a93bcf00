package calls

import (
	"context"
	"os"
	"os/exec"
	"sync"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

type Cache struct{}

func (*Cache) Acquire() int { return 0 }
func (*Cache) Relase()      {}

func f() {
	var mu sync.Mutex
	mixin.Compose(&mu)
	mixin.Compose(mu)
	mixin.Compose(&Cache{}, mixin.Require(mixin.KindLock))
	mixin.Compose(&sync.WaitGroup{})
	mixin.Compose(&os.File{})
	mixin.Compose(&exec.Cmd{}, mixin.Require(mixin.KindAwaitable))
	mixin.Compose(sync.NewCond(&mu))
	mixin.Compose(42)
	adapters.NewLock(&Cache{})
	adapters.NewEvent[int](adapters.NewValueEvent[string]())
	validate.Check(mu, adapters.LockSpec())
	_ = context.Background
}
