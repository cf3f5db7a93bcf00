#!/usr/bin/env bash
# Fails when two of the repository's modules build different versions of a
# module they both compile (their packages and their tests' dependencies).
# One version set across the modules is what their users get when they use
# several of them together, and it lets each module's build find the
# packages the modules before it compiled in the build cache: a second
# version of golang.org/x/sys alone makes every package above it, gRPC
# included, compile again.
#
#   bash scripts/versions.sh
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t modules < <(git ls-files '*go.mod' ':!:**/testdata/**' | xargs -n1 dirname)
for m in "${modules[@]}"; do
	(cd "$m" && go list -deps -test -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}' ./...) |
		sort -u | sed "s|^|$m |"
done | awk '
	{ users[$2 " " $3] = users[$2 " " $3] " " $1; if (!(($2 " " $3) in seen)) { seen[$2 " " $3] = 1; versions[$2] = versions[$2] " " $3; n[$2]++ } }
	END {
		bad = 0
		for (p in n) if (n[p] > 1) {
			bad = 1
			printf "%s is built at %d versions:\n", p, n[p]
			split(substr(versions[p], 2), vs, " ")
			for (i in vs) printf "  %s by%s\n", vs[i], users[p " " vs[i]]
		}
		if (bad) { print "align them: go get <module>@<version> in each module, then go mod tidy"; exit 1 }
	}'
echo "every module builds the same version of each dependency it shares with another"
