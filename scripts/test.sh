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
#
# Some steps run side by side, as background jobs: the oldest Go's, which
# downloads a toolchain and builds with it, from the start; and the three
# server modules' (contrib/redis with contrib/redis/examples, contrib/etcd,
# contrib/postgres), whose tests spend much of their time waiting on their
# servers (each starts its own, on free ports, in a temporary directory of
# its own), once the root and ecosystem modules have put the -race builds
# they share in the build cache. The other steps run one after another in
# the foreground. Two cores are few: a cold run is bound by the CPU
# (compiling), so each step prints the CPU time it used beside its wall
# time, and the modules share one version of every dependency
# (scripts/versions.sh) and one build of it: everything but the plugin host
# and the benchmarks builds with -race. A job's output goes to a log of its
# own, printed whole at the first step boundary after the job has ended; a
# job that fails is shown, the others are waited for, and the command fails.
# On failure or interruption the jobs still running are killed (each is a
# process group of its own; the servers die with the tests that started
# them).
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
clock() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
# timing records a step's line for the summary: wall time, how it ended,
# CPU seconds (user and system, of every process it ran), what it was.
timing() { timings+=("$(printf '%7s  %-6s %5ss CPU  %s' "$(clock "$1")" "$2" "$3" "$4")"); }
# CPU time is what a cold run on few cores is bound by, so each step says
# what it used. cpu_seconds FILE reads the output of the times builtin: the
# user and system seconds of the shell's waited-for children (its second
# line), summed. cpu_now sets CPU to the shell's so far: times runs in the
# shell itself (in a subshell, as in $(...), it would see none of its
# parent's children), its output going to a file.
cpu_seconds() { awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); n += t[1] * 60 + t[2] } printf "%d", n }' "$1"; }
# A background job's CPU joins the shell's children's when the shell reaps
# it, which it does as soon as the job exits (not at the wait builtin): the
# foreground's share is the rest, BG_CPU being the sum of the jobs that have
# ended (each writes its own in its end line, before it exits).
CPU=0
BG_CPU=0
cpu_now() {
	times >"$tmp/times"
	CPU=$(cpu_seconds "$tmp/times")
	local ends=("$tmp"/jobs/*.end)
	BG_CPU=0
	if [[ -e ${ends[0]} ]]; then
		BG_CPU=$(awk '{ n += $3 } END { printf "%d", n }' "${ends[@]}")
	fi
}
step_cpu=0
step_bg_cpu=0
finish() {
	local how=${1:-done}
	if [[ -n $current ]]; then
		local took=$((SECONDS - started)) cpu
		cpu_now
		cpu=$((CPU - step_cpu - (BG_CPU - step_bg_cpu)))
		printf '== %s in %s, %ss CPU: %s\n' "$how" "$(clock $took)" "$cpu" "$current"
		timing $took "$how" "$cpu" "$current"
	fi
	current=""
}
step() {
	finish
	show_ended_jobs || true
	current="$*"
	started=$SECONDS
	cpu_now
	step_cpu=$CPU
	step_bg_cpu=$BG_CPU
	printf '\n== [%s] %s\n' "$(clock $SECONDS)" "$*"
}

# Background jobs. background NAME DESCRIPTION FUNCTION starts FUNCTION in a
# subshell of its own under set -euo pipefail, in a process group of its own
# (set -m while it forks), its output in $tmp/jobs/NAME.log; when it ends it
# writes "status end cpu" (its exit status, the script's SECONDS when it
# ended, the CPU seconds it used) to $tmp/jobs/NAME.end.
bg_jobs=()           # names, in the order they started
declare -A job_desc  # name: description
declare -A job_pid   # name: the job's process id, its process group's too
declare -A job_start # name: when it started
declare -A job_shown # name: its log has been printed
failed=()            # the jobs that failed
background() {
	local name=$1
	bg_jobs+=("$name")
	job_desc[$name]=$2
	job_start[$name]=$SECONDS
	shift 2
	printf '\n== [%s] started in the background: %s\n' "$(clock $SECONDS)" "${job_desc[$name]}"
	set -m
	(
		trap - EXIT INT TERM
		set +e
		(set -euo pipefail; "$@") </dev/null >"$tmp/jobs/$name.log" 2>&1
		rc=$?
		times >"$tmp/jobs/$name.times"
		echo "$rc $SECONDS $(cpu_seconds "$tmp/jobs/$name.times")" >"$tmp/jobs/$name.end"
	) &
	job_pid[$name]=$!
	set +m
}
# show_job prints a job's log whole, between a line saying it ended (or was
# killed) and one saying how long it took, and records its time (how: done,
# FAILED, killed).
show_job() {
	local name=$1 how=$2 end=$3 cpu=${4:-?} start=${job_start[$1]}
	job_shown[$name]=1
	printf '\n== [%s] %s: the background job started at %s: %s\n' "$(clock $SECONDS)" \
		"$([[ $how == killed ]] && echo 'killed' || echo 'ended')" "$(clock "$start")" "${job_desc[$name]}"
	cat "$tmp/jobs/$name.log"
	printf '== %s in %s, %ss CPU: %s\n' "$how" "$(clock $((end - start)))" "$cpu" "${job_desc[$name]}"
	timing $((end - start)) "$how" "$cpu" "${job_desc[$name]} (in the background, from $(clock "$start"))"
}
# show_end shows a job that has ended, by its end line.
show_end() {
	local rc end cpu
	wait "${job_pid[$1]}" || true
	read -r rc end cpu <"$tmp/jobs/$1.end"
	if ((rc == 0)); then
		show_job "$1" "done" "$end" "$cpu"
	else
		failed+=("$1")
		show_job "$1" FAILED "$end" "$cpu"
	fi
}
# show_ended_jobs shows the jobs that have ended and were not shown yet, in
# the order they started; it returns 1 while some job is still running.
show_ended_jobs() {
	local name running=0
	for name in "${bg_jobs[@]}"; do
		[[ -z ${job_shown[$name]:-} ]] || continue
		if [[ -e $tmp/jobs/$name.end ]]; then
			show_end "$name"
		elif ! kill -0 "${job_pid[$name]}" 2>/dev/null; then
			failed+=("$name") # gone without its end line: killed from outside
			show_job "$name" FAILED "$SECONDS"
		else
			running=1
		fi
	done
	((running == 0))
}
# kill_jobs shows the jobs that have ended, then kills those still running,
# each its whole process group: go test and its test binaries, and with those
# the servers they started (which die with their parent: serverproc's
# Pdeathsig); then it shows what they had written. Only a job that has not
# ended is signalled: its process group is still ours.
kill_jobs() {
	local name alive running=()
	show_ended_jobs && return 0
	for name in "${bg_jobs[@]}"; do
		[[ -n ${job_shown[$name]:-} ]] || running+=("$name")
	done
	for name in "${running[@]}"; do kill -TERM -- "-${job_pid[$name]}" 2>/dev/null || true; done
	for _ in {1..50}; do # five seconds to exit, then SIGKILL
		alive=0
		for name in "${running[@]}"; do
			if kill -0 -- "-${job_pid[$name]}" 2>/dev/null; then alive=1; fi
		done
		((alive)) || break
		sleep 0.1
	done
	for name in "${running[@]}"; do
		kill -KILL -- "-${job_pid[$name]}" 2>/dev/null || true
		wait "${job_pid[$name]}" 2>/dev/null || true
	done
	for name in "${running[@]}"; do
		if [[ -e $tmp/jobs/$name.end ]]; then
			show_end "$name" # it ended just before it was signalled
		else
			show_job "$name" killed "$SECONDS"
		fi
	done
}

summary() {
	local rc=$1
	if ((rc != 0)); then finish FAILED; fi
	kill_jobs
	cpu_now
	printf '\n== step timings (total %s, %ss CPU)\n' "$(clock $SECONDS)" "$CPU"
	printf '%s\n' "${timings[@]}"
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
mkdir "$tmp/jobs"
# One EXIT trap: the summary (which kills the jobs still running), then the
# temporary directory (a second trap would replace the first, and the
# summary would never print). INT and TERM exit through it, with their
# status.
trap 'rc=$?; summary "$rc" || true; rm -rf "$tmp"; exit "$rc"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The jobs' bodies.

# Under the oldest Go the question is whether the library builds and behaves
# the same, which -short answers; the race detector and the long stress,
# model and matrix runs are toolchain-independent and run in the root
# module's step. Left out: the plugin host, whose test builds six plugins
# with the toolchain (a minute and more) and runs in full in a step of its
# own, and contrib/internal, the contrib modules' shared test machinery
# (servers, the fault battery), which only those modules import, and they
# need Go 1.26. (A go vet of every package as well cost more CPU than the
# tests it would have replaced.)
oldest_go() {
	export GOTOOLCHAIN=$OLDEST_GO
	go version
	local pkgs
	pkgs=$(go list ./... | grep -v -e '/examples/plugins$' -e '/contrib/internal/')
	# shellcheck disable=SC2086 # one argument per package
	go test -short $pkgs
}
# The analyzer's tests type-check their packages' dependencies from source,
# which under -race takes a core for minutes while it waits on nothing: they
# run beside the steps that follow the root module's. Then mixinvet, built
# without -race (go vet runs it once per package, the standard library's
# included, and a -race build took minutes over them), goes over the
# examples and the ecosystem module: by then the plugin host's step has put
# the plain build of the standard library in the cache, and the ecosystem
# module's the -race build of its packages.
analysis_job() {
	(cd analysis && go test -race -vet=all ./... && go build -o "$tmp/mixinvet" ./cmd/mixinvet)
	echo "mixinvet over the examples and the ecosystem module"
	go vet -race -vettool="$tmp/mixinvet" ./examples/...
	(cd ecosystem && go vet -race -vettool="$tmp/mixinvet" ./...)
	echo "mixinvet: nothing to report"
}
redis_job() {
	cd contrib/redis
	go test -race -vet=all ./...
	go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once
	cd examples
	go test -race -vet=all ./...
	go test -race -run '^$' -bench . -benchtime 1x ./compare | benchmarks_once
}
etcd_job() {
	cd contrib/etcd
	go test -race -vet=all ./...
	go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once
}
postgres_job() {
	cd contrib/postgres
	go test -race -vet=all ./...
	go test -race -run '^$' -bench . -benchtime 1x . | benchmarks_once
}

step "the servers the contrib modules start: redis-server, etcd, postgres (installed when missing, as root)"
bash scripts/servers.sh

step "the modules agree on the version of every dependency they share (one build of each serves them all)"
bash scripts/versions.sh

# The oldest Go's toolchain download and its build of the standard library
# and the root module (not under -race) share nothing with the -race builds
# below: they start at once.
finish
background oldest "root module under the oldest supported Go, $OLDEST_GO, -short (but the plugin host and contrib/internal)" oldest_go

step "root module, $(go env GOVERSION), -race"
go test -race -vet=all ./...

finish
background analysis "analysis module: the mixinvet analyzer, vet and -race; then mixinvet over the examples and the ecosystem module" analysis_job

# The ecosystem module compiles, under -race, the clients the server modules
# use (gRPC and etcd's, go-redis, pgx), at the versions they use: it runs
# before them, so that they find those in the build cache rather than each
# compiling them at the same time.
step "ecosystem module: real third-party types, -race"
(cd ecosystem && go test -race -vet=all ./...)

finish
background redis "contrib/redis module: Lock, Semaphore and Event on a redis-server the tests start, -race; each benchmark once; then the contrib/redis/examples module: the replicas example (redis-server or miniredis) and the comparison with redsync, -race; each benchmark once" redis_job
background etcd "contrib/etcd module: Lock and Event on an etcd the tests start, -race; each benchmark once" etcd_job
background postgres "contrib/postgres module: Lock and Event on a PostgreSQL the tests start (as nobody when root), -race; each benchmark once" postgres_job

step "the plugin host without -race (the race detector misreports code loaded by plugin.Open, golang/go#24245)"
go test -count=1 ./examples/plugins

step "contrib/otel module: the observer over the OpenTelemetry SDK (manual reader, span recorder), -race"
(cd contrib/otel && go test -race -vet=all ./...)

step "benchmarks module: vet, tests, each benchmark once"
(cd benchmarks && go test -vet=all ./... && go test -timeout 10m -run '^$' -bench . -benchtime 1x . | benchmarks_once)

# The scratch module builds with -race (GOFLAGS), so that every package it
# needs is found in the build cache, as the modules' tests compiled it; the
# check is that the requirements resolve and the code compiles.
step "the README's Install section, word for word, in a scratch module outside the tree: it builds against the library and each contrib module"
GOFLAGS=-race bash scripts/install_check.sh "$tmp/install"

finish
printf '\n== [%s] waiting for the background jobs\n' "$(clock $SECONDS)"
until show_ended_jobs; do sleep 1; done
if ((${#failed[@]} > 0)); then
	printf '\nfailed in the background: %s\n' "${failed[*]}"
	exit 1
fi
printf '\nall modules passed\n'
