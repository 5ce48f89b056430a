// etcd: the upstream binary's entry point (go.etcd.io/etcd/server/v3/etcdmain), nothing added.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
