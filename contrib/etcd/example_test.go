package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/etcd"
)

// The examples need an etcd: they compile here and document the API; the
// module's tests run the same calls against the etcd they start.

func ExampleNewLock() {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	l, err := etcd.NewLock(client, "orders", etcd.WithTTL(10))
	if err != nil {
		log.Fatal(err)
	}
	c, err := mixin.Compose(l) // a lock and an owner lock: no adapter
	if err != nil {
		log.Fatal(err)
	}
	lock, _ := c.Lock()
	err = lock.Do(context.Background(), func(ctx context.Context) error {
		token, _ := l.Token() // the hold's key's create revision
		fmt.Println("fencing token", token)
		return ctx.Err() // cancelled, with cause adapters.ErrLockLost, if the lease is lost
	})
	if errors.Is(err, adapters.ErrLockLost) {
		fmt.Println("the lease ran out while we held the lock")
	}
}

func ExampleNewEvent() {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	type config struct{ Version int }
	ev, err := etcd.NewEvent[config](client, "config")
	if err != nil {
		log.Fatal(err)
	}
	// On any client: wait until a Set stores version 3 or later.
	c, err := ev.WaitUntil(context.Background(), func(c config) bool { return c.Version >= 3 })
	fmt.Println(c.Version, err)
}
