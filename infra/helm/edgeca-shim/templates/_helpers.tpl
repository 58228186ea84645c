{{/* Every object's name: the release name when it already contains the chart's name, else "<release>-edgeca-shim". */}}
{{- define "edgeca-shim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selects this release's pods (Deployment, PDB, Service, anti-affinity). */}}
{{- define "edgeca-shim.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object: the kustomize base's two, plus Helm's usual ones. */}}
{{- define "edgeca-shim.labels" -}}
{{ include "edgeca-shim.selectorLabels" . }}
app.kubernetes.io/part-of: edgeca
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The ServiceAccount every binding names. */}}
{{- define "edgeca-shim.subject" -}}
- kind: ServiceAccount
  name: {{ include "edgeca-shim.fullname" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{/* The shim's settings (its environment through envFrom); the ConfigMap's name carries their hash, so a change rolls the pods. */}}
{{- define "edgeca-shim.config" -}}
EDGECA_SIGNER_NAMES: {{ .Values.signer.name | quote }}
EDGECA_SIGNER_URL: {{ .Values.signer.url | quote }}
EDGECA_TOKEN_AUDIENCE: {{ .Values.signer.tokenAudience | quote }}
EDGECA_CONCURRENCY: {{ .Values.concurrency | quote }}
EDGECA_SIGNER_BATCH_MAX: {{ .Values.signerBatchMax | quote }}
EDGECA_SIGNER_BATCH_WAIT_MS: {{ .Values.signerBatchWaitMs | quote }}
EDGECA_PUBLISH_SECRET: {{ .Values.istio.enabled | quote }}
{{- if .Values.istio.enabled }}
EDGECA_BUNDLE_SECRET: {{ printf "%s/%s" .Values.istio.secretNamespace .Values.istio.secretName | quote }}
EDGECA_BUNDLE_SECRET_KEY: {{ .Values.istio.secretKey | quote }}
{{- end }}
EDGECA_PUBLISH_CLUSTER_TRUST_BUNDLE: {{ .Values.clusterTrustBundle.publish | quote }}
EDGECA_CLUSTER_TRUST_BUNDLE_SUFFIX: {{ .Values.clusterTrustBundle.suffix | quote }}
EDGECA_LOG_LEVEL: {{ .Values.logLevel | quote }}
{{- /* The shim's default Lease is "$POD_NAMESPACE/edgeca-shim"; name it only when the release renames it. */}}
{{- if ne (include "edgeca-shim.fullname" .) "edgeca-shim" }}
EDGECA_LEASE: {{ printf "%s/%s" .Release.Namespace (include "edgeca-shim.fullname" .) | quote }}
{{- end }}
{{- end -}}

{{- define "edgeca-shim.configName" -}}
{{- printf "%s-config-%s" (include "edgeca-shim.fullname" .) (include "edgeca-shim.config" . | sha256sum | trunc 10) -}}
{{- end -}}
