#!/usr/bin/env bash
# The project's test command: every module, as CI runs it, from a fresh clone
# on a machine with Go installed. Go modules and the oldest supported Go
# toolchain come through the Go module proxy; the servers the contrib/
# modules' tests start (redis-server, etcd) are installed by
# scripts/servers.sh when missing (as root, with apt-get).
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Go the library supports: go.mod's go line says the same.
OLDEST_GO=go1.24.11

step() { printf '\n== %s\n' "$*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "root module, $(go env GOVERSION), -race"
go test -race ./...

step "the plugin host without -race (the race detector misreports code loaded by plugin.Open, golang/go#24245)"
go test -count=1 ./examples/plugins

step "root module under the oldest supported Go, $OLDEST_GO, -race"
GOTOOLCHAIN=$OLDEST_GO go test -race ./...

step "ecosystem module: real third-party types, -race"
(cd ecosystem && go vet ./... && go test -race ./...)

step "analysis module: the mixinvet analyzer, vet and -race; then mixinvet over the examples and the ecosystem module"
(cd analysis && go vet ./... && go test -race ./... && go build -o "$tmp/mixinvet" ./cmd/mixinvet)
go vet -vettool="$tmp/mixinvet" ./examples/...
(cd ecosystem && go vet -vettool="$tmp/mixinvet" ./...)

bash scripts/servers.sh

step "contrib/redis module: Lock and Event on a redis-server the tests start, -race; each benchmark once"
(cd contrib/redis && go vet ./... && go test -race ./... && go test -run '^$' -bench . -benchtime 1x . >/dev/null)

step "contrib/etcd module: Lock and Event on an etcd the tests start, -race; each benchmark once"
(cd contrib/etcd && go vet ./... && go test -race ./... && go test -run '^$' -bench . -benchtime 1x . >/dev/null)

step "contrib/otel module: the observer over the OpenTelemetry SDK (manual reader, span recorder), -race"
(cd contrib/otel && go vet ./... && go test -race ./...)

step "benchmarks module: vet, tests, each benchmark once"
(cd benchmarks && go vet ./... && go test ./... && go test -timeout 10m -run '^$' -bench . -benchtime 1x . >/dev/null)

step "all modules passed"
