module github.com/gomixin/mixin/contrib/redis

go 1.26.0

replace github.com/gomixin/mixin => ../..

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/gomixin/mixin v0.1.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
