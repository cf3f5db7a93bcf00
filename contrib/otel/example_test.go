package mixinotel_test

import (
	"context"
	"fmt"
	"sort"
	"sync"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/gomixin/mixin"
	mixinotel "github.com/gomixin/mixin/contrib/otel"
)

func ExampleNew() {
	reader := sdkmetric.NewManualReader() // a Prometheus or OTLP exporter in a program
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	obs, err := mixinotel.New(mixinotel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}

	c := mixin.New(mixin.WithObserver(obs))
	comp, err := c.Register("orders-db", &sync.Mutex{}) // a legacy lock, unchanged
	if err != nil {
		panic(err)
	}
	l, _ := comp.Lock()
	_ = l.Do(context.Background(), func(context.Context) error { return nil })

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var names []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		names = append(names, m.Name+" "+m.Unit)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(n)
	}
	// Output:
	// mixin.lock.acquires {acquire}
	// mixin.lock.hold.duration s
	// mixin.lock.wait.duration s
}
