{{/* Whether the plan gate's webhook is installed: "installed", or why not ("disabled", "no-extender", "no-tls",
     "no-ca": an existingSecret whose CA the chart cannot read and no extender.planGate.webhook.caBundle). */}}
{{- define "augur.extender.planGateWebhookState" -}}
{{- if not .Values.extender.planGate.webhook.enabled -}}disabled
{{- else if not .Values.extender.enabled -}}no-extender
{{- else if not .Values.extender.tls.enabled -}}no-tls
{{- else if and (eq (include "augur.extender.tlsSource" .) "existingSecret") (not (include "augur.extender.existingCaBundle" .)) -}}no-ca
{{- else -}}installed
{{- end -}}
{{- end -}}

{{/* CA bundle (base64 PEM) of a user's existingSecret: extender.planGate.webhook.caBundle, else the Secret's
     ca.crt (else tls.crt) read at install; empty when neither (helm template, Argo CD: no lookup). */}}
{{- define "augur.extender.existingCaBundle" -}}
{{- if .Values.extender.planGate.webhook.caBundle -}}{{ .Values.extender.planGate.webhook.caBundle }}
{{- else -}}
{{- $s := lookup "v1" "Secret" .Release.Namespace .Values.extender.tls.existingSecret -}}
{{- if and $s $s.data -}}{{ default (index $s.data "tls.crt") (index $s.data "ca.crt") }}{{- end -}}
{{- end -}}
{{- end -}}

{{/* The plan gate's MutatingWebhookConfiguration: (dict "ctx" $ "caBundle" base64-PEM "injectFrom" "ns/cert").
     kube-apiserver asks the extender about each new pod (docs/placement.md, "The plan gate"); failurePolicy
     Ignore, so an extender that is down or slow admits pods unchanged. */}}
{{- define "augur.extender.planGateWebhook" -}}
{{- $ := .ctx -}}
{{- $wh := $.Values.extender.planGate.webhook -}}
{{- $sel := deepCopy $wh.namespaceSelector -}}
{{- $exclude := dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" (list "kube-system" "kube-node-lease" $.Release.Namespace) -}}
{{- $_ := set $sel "matchExpressions" (append (default (list) $sel.matchExpressions) $exclude) -}}
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: {{ include "augur.extender.fullname" $ }}-plan-gate
  labels:
    {{- include "augur.componentLabels" (dict "ctx" $ "component" "extender") | nindent 4 }}
  {{- with .injectFrom }}
  annotations:
    cert-manager.io/inject-ca-from: {{ . }}
  {{- end }}
webhooks:
  - name: plan-gate.augur.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    reinvocationPolicy: Never
    matchPolicy: Equivalent
    timeoutSeconds: {{ $wh.timeoutSeconds }}
    clientConfig:
      service:
        name: {{ include "augur.extender.fullname" $ }}
        namespace: {{ $.Release.Namespace }}
        port: {{ $.Values.extender.service.port }}
        path: /admission/plan-gate
      {{- with .caBundle }}
      caBundle: {{ . }}
      {{- end }}
    rules:
      - operations: [CREATE]
        apiGroups: [""]
        apiVersions: [v1]
        resources: [pods]
        scope: Namespaced
    namespaceSelector:
      {{- toYaml $sel | nindent 6 }}
    objectSelector:
      matchExpressions:
        - {key: augur.dev/plan-gate, operator: NotIn, values: ["off"]}
{{- end -}}
