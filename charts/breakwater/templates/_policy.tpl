{{/*
The sidecar's policy file, rendered with tpl from breakwater.policyYaml (raw text) or breakwater.policy (structured).
Fails the render when the policy disagrees with the ports the chart wires into probes and the app's URL.
*/}}
{{- define "breakwater.policy.text" -}}
{{- $text := "" }}
{{- if .Values.breakwater.policyYaml }}
{{- $text = tpl .Values.breakwater.policyYaml . }}
{{- else }}
{{- $text = tpl (toYaml .Values.breakwater.policy) . }}
{{- end }}
{{- $policy := include "breakwater.policy.parse" $text | fromYaml }}
{{- $adminAddress := dig "admin" "address" "" $policy | toString }}
{{- if not (hasSuffix (printf ":%d" (int .Values.breakwater.adminPort)) $adminAddress) }}
{{- fail (printf "breakwater policy: admin.address %q must listen on breakwater.adminPort %d (the probes and metrics use it)" $adminAddress (int .Values.breakwater.adminPort)) }}
{{- end }}
{{- $listenerAddresses := list }}
{{- range $policy.listeners }}
{{- $listenerAddresses = append $listenerAddresses (toString .address) }}
{{- end }}
{{- if not (has (printf "127.0.0.1:%d" (int .Values.breakwater.listenerPort)) $listenerAddresses) }}
{{- fail (printf "breakwater policy: no listener on 127.0.0.1:%d (breakwater.listenerPort, where the app sends its requests); listeners: %v" (int .Values.breakwater.listenerPort) $listenerAddresses) }}
{{- end }}
{{- if .Values.demo.grpc.enabled }}
{{- $text = include "breakwater.policy.withGrpcDemo" (dict "root" . "policy" $policy) }}
{{- end }}
{{- $text }}
{{- end }}

{{/*
The policy with the gRPC demo's example route (first on the app's listener: gRPC calls to breakwater.demo.Demo) and
its upstream (h2c to every pod of the headless Service). Call with (dict "root" $ "policy" <parsed policy>).
*/}}
{{- define "breakwater.policy.withGrpcDemo" -}}
{{- $root := .root }}
{{- $policy := .policy }}
{{- $route := merge (dict "name" "grpc-demo" "match" (dict "grpc" (dict "service" "breakwater.demo.Demo")) "upstream" "demo-grpc") (deepCopy $root.Values.demo.grpc.route) }}
{{- $dns := dict "name" (include "breakwater.grpcBackend.headlessHost" $root) "port" 8080 "refresh" "5s" }}
{{- $upstream := merge (dict "name" "demo-grpc" "protocol" "h2c" "dns" $dns) (deepCopy $root.Values.demo.grpc.upstream) }}
{{- $appListener := printf "127.0.0.1:%d" (int $root.Values.breakwater.listenerPort) }}
{{- $listeners := list }}
{{- range $policy.listeners }}
{{- if eq (toString .address) $appListener }}
{{- $_ := set . "routes" (prepend (.routes | default list) $route) }}
{{- end }}
{{- $listeners = append $listeners . }}
{{- end }}
{{- $_ := set $policy "listeners" $listeners }}
{{- $_ := set $policy "upstreams" (append ($policy.upstreams | default list) $upstream) }}
{{- toYaml $policy }}
{{- end }}

{{/* Parses policy text into a map, failing with the YAML error when it is not a YAML mapping. */}}
{{- define "breakwater.policy.parse" -}}
{{- $policy := fromYaml . }}
{{- if hasKey $policy "Error" }}
{{- fail (printf "breakwater policy: not a YAML mapping: %s" $policy.Error) }}
{{- end }}
{{- toYaml $policy }}
{{- end }}

{{/* Whole seconds (rounded up) of a policy duration such as 250ms, 5s, 1.5m; fails naming the field otherwise. */}}
{{- define "breakwater.durationSeconds" -}}
{{- $text := toString .value }}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$" $text) }}
{{- fail (printf "breakwater policy: %s %q is not a duration like 250ms, 5s, 1m" .field $text) }}
{{- end }}
{{- $unit := regexFind "(ms|s|m|h)$" $text }}
{{- $number := trimSuffix $unit $text | float64 }}
{{- $factor := get (dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0) $unit }}
{{- mulf $number $factor | ceil | int }}
{{- end }}

{{/* Pod grace period long enough for the proxy's drain: drain.delay + drain.timeout + extra. */}}
{{- define "breakwater.terminationGracePeriodSeconds" -}}
{{- $policy := include "breakwater.policy.text" . | fromYaml }}
{{- $drain := $policy.drain | default dict }}
{{- $delay := include "breakwater.durationSeconds" (dict "field" "drain.delay" "value" ($drain.delay | default "5s")) | int }}
{{- $timeout := include "breakwater.durationSeconds" (dict "field" "drain.timeout" "value" ($drain.timeout | default "30s")) | int }}
{{- add $delay $timeout .Values.breakwater.terminationGraceExtraSeconds }}
{{- end }}
