{{/*
The Breakwater sidecar, for any workload of this chart. Its pod template includes (each `| nindent N`, see
templates/client-deployment.yaml):
  breakwater.sidecar.initContainers   under initContainers (native sidecar mode)
  breakwater.sidecar.containers       first under containers (legacy mode: started, and ready, before the app)
  breakwater.sidecar.volumes          under volumes
  breakwater.sidecar.podAnnotations   under the pod annotations (policy checksum in rollout mode)
  breakwater.sidecar.terminationGracePeriodSeconds
Each renders nothing when breakwater.enabled is false (the grace period falls back to Kubernetes' 30 s).
*/}}

{{/* "true" when the sidecar runs as a native sidecar: forced by sidecarMode, or auto on Kubernetes >= 1.29. */}}
{{- define "breakwater.sidecar.native" -}}
{{- $mode := .Values.breakwater.sidecarMode }}
{{- if or (eq $mode "native") (and (eq $mode "auto") (semverCompare ">=1.29-0" .Capabilities.KubeVersion.Version)) -}}
true
{{- end }}
{{- end }}

{{- define "breakwater.sidecar.initContainers" -}}
{{- if and .Values.breakwater.enabled (include "breakwater.sidecar.native" .) -}}
{{- include "breakwater.sidecar.container" (dict "root" . "native" true) }}
{{- end }}
{{- end }}

{{- define "breakwater.sidecar.containers" -}}
{{- if and .Values.breakwater.enabled (not (include "breakwater.sidecar.native" .)) -}}
{{- include "breakwater.sidecar.container" (dict "root" . "native" false) }}
{{- end }}
{{- end }}

{{- define "breakwater.sidecar.volumes" -}}
{{- if .Values.breakwater.enabled -}}
# A whole-directory mount (never subPath): ConfigMap edits reach the file, and the proxy hot-reloads them.
- name: breakwater-policy
  configMap:
    name: {{ include "breakwater.policy.configMapName" . }}
- name: breakwater-tmp
  emptyDir:
    sizeLimit: 16Mi
{{- end }}
{{- end }}

{{- define "breakwater.sidecar.podAnnotations" -}}
{{- if and .Values.breakwater.enabled (eq .Values.breakwater.policyReload "rollout") -}}
checksum/breakwater-policy: {{ include "breakwater.policy.text" . | sha256sum }}
{{- end }}
{{- end }}

{{- define "breakwater.sidecar.terminationGracePeriodSeconds" -}}
{{- if .Values.breakwater.enabled }}
{{- include "breakwater.terminationGracePeriodSeconds" . }}
{{- else -}}
30
{{- end }}
{{- end }}

{{/* The app's base URL for calls through the sidecar's egress listener. */}}
{{- define "breakwater.sidecar.url" -}}
{{- printf "http://127.0.0.1:%d" (int .Values.breakwater.listenerPort) }}
{{- end }}

{{/* The container; call with (dict "root" $ "native" bool). */}}
{{- define "breakwater.sidecar.container" -}}
{{- $root := .root }}
{{- $values := $root.Values.breakwater -}}
- name: breakwater
  image: {{ include "breakwater.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: ["breakwater"]
  args: ["--config", "/etc/breakwater/breakwater.yaml"]
  {{- if .native }}
  # Native sidecar: starts before the app (once the startup probe passes) and stops after it.
  restartPolicy: Always
  {{- end }}
  ports:
    - name: bw-admin
      containerPort: {{ $values.adminPort }}
      protocol: TCP
  {{- if .native }}
  startupProbe:
    httpGet: { path: /readyz, port: bw-admin }
    periodSeconds: 1
    failureThreshold: {{ $values.startupWaitSeconds }}
  {{- else }}
  lifecycle:
    # Kubernetes starts the next container only after this hook returns: the app starts once the proxy is ready.
    postStart:
      exec:
        command:
          - node
          - --input-type=module
          - -e
          - {{ $root.Files.Get "files/wait-ready.mjs" | quote }}
          - {{ printf "http://127.0.0.1:%d/readyz" (int $values.adminPort) | quote }}
          - {{ $values.startupWaitSeconds | quote }}
  {{- end }}
  readinessProbe:
    httpGet: { path: /readyz, port: bw-admin }
    periodSeconds: 5
    failureThreshold: 2
  livenessProbe:
    httpGet: { path: /healthz, port: bw-admin }
    periodSeconds: 10
    failureThreshold: 3
  {{- with $values.nodeOptions }}
  env:
    - name: NODE_OPTIONS
      value: {{ . | quote }}
  {{- end }}
  resources:
    {{- toYaml $values.resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: breakwater-policy
      mountPath: /etc/breakwater
      readOnly: true
    - name: breakwater-tmp
      mountPath: /tmp
{{- end }}
