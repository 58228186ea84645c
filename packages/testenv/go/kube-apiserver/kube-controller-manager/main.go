// Command kube-controller-manager is the upstream Kubernetes controller manager, built from the same
// pinned k8s.io/kubernetes release and the same go.mod as kube-apiserver (one go.sum serves both). The
// benchmarks run it with --controllers=csrsigning as the reference signer. It only wires the upstream
// command; all behaviour is upstream's.
package main

import (
	"os"
	// CronJob time zones need the embedded database; upstream links it too.
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	// Same side-effect registrations as upstream cmd/kube-controller-manager: JSON logs and the
	// client-go / version metrics.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
