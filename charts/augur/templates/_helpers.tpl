{{/* Name of the chart (nameOverride wins). */}}
{{- define "augur.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: the release name, unless it already contains the chart's name. */}}
{{- define "augur.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "augur.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "augur.operator.fullname" -}}{{ include "augur.fullname" . }}-operator{{- end -}}
{{- define "augur.extender.fullname" -}}{{ include "augur.fullname" . }}-extender{{- end -}}
{{/* Name of the gate keeper's Lease, its Role and binding, and the Service kube-scheduler calls. */}}
{{- define "augur.extender.gateKeeper" -}}{{ include "augur.extender.fullname" . }}-gate-keeper{{- end -}}

{{- define "augur.operator.serviceAccountName" -}}
{{- default (include "augur.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- define "augur.extender.serviceAccountName" -}}
{{- default (include "augur.extender.fullname" .) .Values.extender.serviceAccount.name -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "augur.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "augur.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: augur
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "augur.selectorLabels" -}}
app.kubernetes.io/name: {{ include "augur.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects. */}}
{{- define "augur.componentLabels" -}}
{{ include "augur.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "augur.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The container securityContext of every pod: Pod Security "restricted" (not configurable on purpose). */}}
{{- define "augur.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Name of the extender's TLS Secret (the user's, or the one cert-manager or the chart writes). */}}
{{- define "augur.extender.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "augur.extender.fullname" .)) .Values.extender.tls.existingSecret -}}
{{- end -}}

{{/* Which source the extender's certificate comes from: existingSecret, certManager or selfSigned. */}}
{{- define "augur.extender.tlsSource" -}}
{{- if .Values.extender.tls.existingSecret -}}existingSecret
{{- else if and .Values.extender.tls.certManager.enabled (.Capabilities.APIVersions.Has "cert-manager.io/v1") -}}certManager
{{- else -}}selfSigned
{{- end -}}
{{- end -}}

{{/* DNS names of the extender's Services (certificate SANs): every replica's, and the gate keeper's. */}}
{{- define "augur.extender.dnsNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list -}}
{{- range (list (include "augur.extender.fullname" .) (include "augur.extender.gateKeeper" .)) -}}
{{- $names = concat $names (list . (printf "%s.%s" . $ns) (printf "%s.%s.svc" . $ns) (printf "%s.%s.svc.%s" . $ns $.Values.clusterDomain)) -}}
{{- end -}}
{{- concat $names .Values.extender.tls.extraDnsNames | toJson -}}
{{- end -}}

{{/* The Service kube-scheduler calls: the gate keeper's (the one replica that lets pods through the plan gate)
with planGate.leaderElection, else every replica's. */}}
{{- define "augur.extender.schedulerService" -}}
{{- if .Values.extender.planGate.leaderElection -}}{{ include "augur.extender.gateKeeper" . }}{{- else -}}{{ include "augur.extender.fullname" . }}{{- end -}}
{{- end -}}

{{- define "augur.extender.scheme" -}}{{ if .Values.extender.tls.enabled }}https{{ else }}http{{ end }}{{- end -}}
