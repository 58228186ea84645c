// Command pilot-agent is upstream Istio's sidecar agent, built from the pinned
// istio.io/istio module. Tests run it without Envoy to request workload
// certificates from istiod exactly as a real sidecar does. It only wires the
// upstream command (the same as istio/pilot/cmd/pilot-agent/main.go).
package main

import (
	"os"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/cmd/pilot-agent/app"
	istioagent "istio.io/istio/pkg/istio-agent"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/security"
	"istio.io/istio/security/pkg/nodeagent/sds"
)

func main() {
	log.EnableKlogWithCobra()
	rootCmd := app.NewRootCommand(
		func(options *security.Options, workloadSecretCache security.SecretManager, pkpConf *meshconfig.PrivateKeyProvider) istioagent.SDSService {
			return sds.NewServer(options, workloadSecretCache, pkpConf)
		})
	if err := rootCmd.Execute(); err != nil {
		log.Error(err)
		os.Exit(-1)
	}
}
