package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/postgres"
)

// The examples need a PostgreSQL: they compile here and document the API;
// the module's tests run the same calls against the PostgreSQL they start.

func ExampleNewLock() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	l, err := postgres.NewLock(pool, "orders")
	if err != nil {
		log.Fatal(err)
	}
	c, err := mixin.Compose(l) // a lock and an owner lock: no adapter
	if err != nil {
		log.Fatal(err)
	}
	lock, _ := c.Lock()
	err = lock.Do(ctx, func(ctx context.Context) error {
		token, _ := l.Token() // from a sequence: hand it to what the lock guards
		fmt.Println("fencing token", token)
		return ctx.Err() // cancelled, with cause adapters.ErrLockLost, if the lease is lost
	})
	if errors.Is(err, adapters.ErrLockLost) {
		fmt.Println("the lease ran out while we held the lock")
	}
}

func ExampleNewEvent() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	type config struct{ Version int }
	ev, err := postgres.NewEvent[config](pool, "config")
	if err != nil {
		log.Fatal(err)
	}
	// On any pool, in any process: wait until a Set stores version 3 or later.
	c, err := ev.WaitUntil(ctx, func(c config) bool { return c.Version >= 3 })
	fmt.Println(c.Version, err)
}

func ExampleSetup() {
	ctx := context.Background()
	// As a role that may create tables, once: the application's role then
	// needs only the privileges the README lists.
	pool, err := pgxpool.New(ctx, "postgres://admin@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Setup(ctx, pool, postgres.WithSchema("coordination")); err != nil {
		log.Fatal(err)
	}
}
