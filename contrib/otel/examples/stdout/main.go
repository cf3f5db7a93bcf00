// Command stdout wires the OpenTelemetry observer to the SDK's stdout
// exporter: two locks (a legacy *sync.Mutex and an OwnerMutex) contended
// for a while, then every mixin metric printed as JSON, with spans for the
// locks' waits and holds when -spans is given.
//
//	go run ./examples/stdout -d 1s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	mixinotel "github.com/gomixin/mixin/contrib/otel"
)

func main() {
	d := flag.Duration("d", time.Second, "how long to drive contention")
	spans := flag.Bool("spans", false, "also count the spans made")
	flag.Parse()
	if err := run(os.Stdout, *d, *spans); err != nil {
		fmt.Fprintln(os.Stderr, "stdout:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, d time.Duration, spans bool) error {
	exp, err := stdoutmetric.New(stdoutmetric.WithWriter(w), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	opts := []mixinotel.Option{mixinotel.WithMeterProvider(mp)}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	if spans {
		opts = append(opts, mixinotel.WithTracerProvider(tp))
	}
	obs, err := mixinotel.New(opts...)
	if err != nil {
		return err
	}

	c := mixin.New(mixin.WithObserver(obs))
	var locks []*adapters.Lock
	for name, v := range map[string]any{"legacy-mutex": &sync.Mutex{}, "owner-mutex": adapters.NewOwnerMutex()} {
		comp, err := c.Register(name, v)
		if err != nil {
			return err
		}
		l, _ := comp.Lock()
		locks = append(locks, l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range locks {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				task := adapters.WithTask(ctx)
				for ctx.Err() == nil {
					_ = l.Do(task, func(context.Context) error { time.Sleep(100 * time.Microsecond); return nil })
				}
			}()
		}
	}
	wg.Wait()

	if err := tp.Shutdown(context.Background()); err != nil {
		return err
	}
	if spans {
		fmt.Fprintf(w, "spans made: %d\n", len(rec.Ended()))
	}
	return mp.Shutdown(context.Background()) // flushes: the exporter writes every metric
}
