#!/usr/bin/env bash
# Follows the README's Install section for a clone, word for word: a module
# of its own outside the tree whose go.mod is the README's block (between the
# install:gomod markers) with /path/to/mixin made this clone, importing the
# library and every contrib module; go mod tidy, then go build. A contrib
# module whose requirements cannot resolve for a user fails here.
#
#   bash scripts/install_check.sh [scratch-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
cd "$dir"

{
	echo "module example.com/installcheck"
	echo
	echo "go 1.26"
	echo
	awk '/<!-- install:gomod -->/ { on = 1; next } /<!-- \/install:gomod -->/ { on = 0 } on && !/^```/' "$root/README.md" |
		sed "s|/path/to/mixin|$root|g"
} >go.mod
grep -q "contrib/redis =>" go.mod || { echo "the README's install:gomod block is missing or changed shape"; exit 1; }

cat >main.go <<'GO'
package main

import (
	"fmt"
	"sync"

	"github.com/gomixin/mixin"
	_ "github.com/gomixin/mixin/contrib/etcd"
	mixinotel "github.com/gomixin/mixin/contrib/otel"
	_ "github.com/gomixin/mixin/contrib/postgres"
	_ "github.com/gomixin/mixin/contrib/redis"
)

var _ = mixinotel.New

func main() {
	c, err := mixin.Compose(&sync.Mutex{})
	fmt.Println(c.Kinds(), err)
}
GO
go mod tidy
go build ./...
go run . | grep -q lock
echo "install from a clone: go mod tidy and go build pass against the library and $(grep -c '=> ' go.mod) modules"
