// Command gendoc writes, for each distributed engine (contrib/redis,
// contrib/etcd, contrib/postgres), the methods its handle types promote from
// dist.Handle and dist.Event as methods of their own, each calling the
// embedded one, with dist's doc comment: go doc lists no method promoted
// from another package, so without them `go doc .../redis.Lock` showed no
// method at all. Run from the repository's root:
//
//	go run ./contrib/internal/dist/gendoc
//
// contrib/internal/dist's tests fail when a written file is stale.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/gomixin/mixin/contrib/internal/dist/delegate"
)

func main() {
	for _, engine := range delegate.Engines {
		src, err := delegate.Generate("contrib/internal/dist", "contrib/"+engine)
		if err != nil {
			log.Fatal(err)
		}
		path := "contrib/" + engine + "/" + delegate.File
		if err := os.WriteFile(path, src, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println("wrote", path)
	}
}
