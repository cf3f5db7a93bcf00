#!/usr/bin/env bash
# The project's test command: every module, as CI runs it, from a fresh clone
# on a machine with Go installed. Go modules and the oldest supported Go
# toolchain come through the Go module proxy; the servers the contrib/
# modules' tests start (redis-server, etcd, PostgreSQL) are installed by
# scripts/servers.sh when missing (as root, with apt-get).
#
#   bash scripts/test.sh
#
# The contrib modules' tests include the generated fault battery
# (contrib/internal/disttest: every condition crossed with every role);
# its long form makes each condition brief as well as long, and each scene
# n times:
#
#   MIXIN_STRESS=3 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Go the library supports: go.mod's go line says the same.
OLDEST_GO=go1.24.11

# Each step says when it starts and how long it took; the end lists them all,
# so that a long silent stretch (a cold build under -race) is known to be one.
SECONDS=0
current=""
started=0
timings=()
finish() {
	local how=${1:-done}
	if [[ -n $current ]]; then
		local took=$((SECONDS - started))
		printf '== %s in %dm%02ds: %s\n' "$how" $((took / 60)) $((took % 60)) "$current"
		timings+=("$(printf '%4dm%02ds  %-6s %s' $((took / 60)) $((took % 60)) "$how" "$current")")
	fi
	current=""
}
step() {
	finish
	current="$*"
	started=$SECONDS
	printf '\n== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}
summary() {
	local rc=${1:-$?}
	if ((rc != 0)); then finish FAILED; fi
	printf '\n== step timings (total %dm%02ds)\n' $((SECONDS / 60)) $((SECONDS % 60))
	printf '%s\n' "${timings[@]}"
	return $rc
}

# Each module is vetted by its go test (-vet=all: every vet check, on the
# packages the test build compiles anyway); a go vet of its own would compile
# every dependency a second time, without -race. The benchmarks run once
# under -race too, from the test binary already built.
#
# benchmarks_once prints one line per benchmark package instead of every
# benchmark's numbers (each runs once, to keep them from rotting).
benchmarks_once() { awk '/^(ok|FAIL|PASS|panic|---)/ { print; fflush() }'; }

tmp=$(mktemp -d)
# One EXIT trap: the summary, then the temporary directory (a second trap
# would replace the first, and the summary would never print).
trap 'rc=$?; summary "$rc" || true; rm -rf "$tmp"; exit "$rc"' EXIT

step "the modules agree on the version of every dependency they share (one build of each serves them all)"
bash scripts/versions.sh

step "root module, $(go env GOVERSION), -race"
go test -race -vet=all ./...

step "the plugin host without -race (the race detector misreports code loaded by plugin.Open, golang/go#24245)"
go test -count=1 ./examples/plugins

# Under the oldest Go the question is whether the library builds and behaves
# the same, which -short answers; the race detector and the long stress,
# model and matrix runs are toolchain-independent and ran in the first step
# (a second -race build of everything cost five minutes cold).
# The plugin host is left out here: its test builds six plugins with the
# toolchain (a minute and more), and ran in full in the step before.
step "root module under the oldest supported Go, $OLDEST_GO, -short (but the plugin host)"
GOTOOLCHAIN=$OLDEST_GO go test -short $(GOTOOLCHAIN=$OLDEST_GO go list ./... | grep -v '/examples/plugins$')

step "ecosystem module: real third-party types, -race"
(cd ecosystem && go test -race -vet=all ./...)

step "analysis module: the mixinvet analyzer, vet and -race; then mixinvet over the examples and the ecosystem module"
(cd analysis && go test -race -vet=all ./... && go build -o "$tmp/mixinvet" ./cmd/mixinvet)
go vet -race -vettool="$tmp/mixinvet" ./examples/...
(cd ecosystem && go vet -race -vettool="$tmp/mixinvet" ./...)

step "the servers the contrib modules start: redis-server, etcd, postgres (installed when missing, as root)"
bash scripts/servers.sh

step "contrib/redis module: Lock, Semaphore and Event on a redis-server the tests start, -race; each benchmark once"
(cd contrib/redis && go test -race -vet=all ./... && go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once)

step "contrib/redis/examples module: the replicas example (redis-server or miniredis) and the comparison with redsync, -race; each benchmark once"
(cd contrib/redis/examples && go test -race -vet=all ./... && go test -race -run '^$' -bench . -benchtime 1x ./compare | benchmarks_once)

step "contrib/etcd module: Lock and Event on an etcd the tests start, -race; each benchmark once"
(cd contrib/etcd && go test -race -vet=all ./... && go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once)

step "contrib/postgres module: Lock and Event on a PostgreSQL the tests start (as nobody when root), -race; each benchmark once"
(cd contrib/postgres && go test -race -vet=all ./... && go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once)

step "contrib/otel module: the observer over the OpenTelemetry SDK (manual reader, span recorder), -race"
(cd contrib/otel && go test -race -vet=all ./...)

step "benchmarks module: vet, tests, each benchmark once"
(cd benchmarks && go test -vet=all ./... && go test -timeout 10m -run '^$' -bench . -benchtime 1x . | benchmarks_once)

step "the README's Install section, word for word, in a scratch module outside the tree: it builds against the library and each contrib module"
bash scripts/install_check.sh "$tmp/install"

finish
printf '\nall modules passed\n'
