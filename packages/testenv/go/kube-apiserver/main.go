// Command kube-apiserver is the upstream Kubernetes API server, built from the
// pinned k8s.io/kubernetes release so that tests run against the real thing.
// It only wires the upstream command; all behaviour is upstream's.
package main

import (
	"os"
	// CronJob time zones need the embedded database; upstream links it too.
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	// Same side-effect registrations as upstream cmd/kube-apiserver: JSON logs
	// and the client-go / version metrics.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
