{{/* Chart name, overridable. */}}
{{- define "breakwater.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object-name prefix: the release name, plus the chart name unless the release already contains it. */}}
{{- define "breakwater.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "breakwater.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "breakwater.labels" -}}
helm.sh/chart: {{ include "breakwater.chart" . }}
{{ include "breakwater.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: breakwater
{{- end }}

{{/* Stable labels for selectors (chaos experiments select on instance + component). */}}
{{- define "breakwater.selectorLabels" -}}
app.kubernetes.io/name: {{ include "breakwater.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "demo-backend"). */}}
{{- define "breakwater.componentLabels" -}}
{{ include "breakwater.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "breakwater.componentSelectorLabels" -}}
{{ include "breakwater.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "breakwater.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "breakwater.backend.fullname" -}}
{{- printf "%s-demo-backend" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "breakwater.backend.headlessName" -}}
{{- printf "%s-demo-backend-headless" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified headless Service name: resolves to every ready backend pod. */}}
{{- define "breakwater.backend.headlessHost" -}}
{{- printf "%s.%s.svc.%s" (include "breakwater.backend.headlessName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{- define "breakwater.client.fullname" -}}
{{- printf "%s-demo-client" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "breakwater.policy.configMapName" -}}
{{- printf "%s-policy" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prometheus scrape-convention annotations for a pod; call with (dict "root" $ "port" 9901). */}}
{{- define "breakwater.prometheusAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{- define "breakwater.grpcBackend.fullname" -}}
{{- printf "%s-demo-grpc" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "breakwater.grpcBackend.headlessName" -}}
{{- printf "%s-demo-grpc-headless" (include "breakwater.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified headless Service name of the gRPC demo: every ready gRPC pod, for the sidecar to balance over. */}}
{{- define "breakwater.grpcBackend.headlessHost" -}}
{{- printf "%s.%s.svc.%s" (include "breakwater.grpcBackend.headlessName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}
