// Command etcd is the upstream etcd server at the version the pinned
// Kubernetes release uses; it only calls upstream's entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
