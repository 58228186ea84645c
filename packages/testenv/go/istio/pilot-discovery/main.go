// Command pilot-discovery is upstream istiod, built from the pinned istio.io/istio
// module so that tests and the demo run edgeca against the real Istio control
// plane instead of our emulator. It only wires the upstream command (the same
// as istio/pilot/cmd/pilot-discovery/main.go); all behaviour is upstream's.
package main

import (
	"os"

	"istio.io/istio/pilot/cmd/pilot-discovery/app"
	"istio.io/istio/pkg/log"
)

func main() {
	log.EnableKlogWithCobra()
	rootCmd := app.NewRootCommand()
	if err := rootCmd.Execute(); err != nil {
		log.Error(err)
		os.Exit(-1)
	}
}
