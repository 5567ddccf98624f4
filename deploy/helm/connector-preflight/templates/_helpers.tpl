{{- define "cp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "cp.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cp.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cp.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "cp.registryUrl" -}}
{{- if .Values.schemaRegistry.url -}}{{ .Values.schemaRegistry.url }}{{- else -}}http://{{ include "cp.fullname" . }}-schema-registry:8081{{- end -}}
{{- end -}}

{{/* Secret volumes: only the files each concern needs, read-only, owner-readable only. */}}
{{- define "cp.secretVolumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- $kafkaTls := .Values.kafka.tls }}
{{- if $kafkaTls.existingSecret }}
- name: kafka-tls
  secret: { secretName: {{ $kafkaTls.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.kafka.sasl.existingSecret }}
- name: kafka-sasl
  secret: { secretName: {{ .Values.kafka.sasl.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.schemaRegistry.auth.existingSecret }}
- name: registry-auth
  secret: { secretName: {{ .Values.schemaRegistry.auth.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.schemaRegistry.tls.existingSecret }}
- name: registry-tls
  secret: { secretName: {{ .Values.schemaRegistry.tls.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.apiAuth.existingSecret }}
- name: api-auth
  secret: { secretName: {{ .Values.apiAuth.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.tenantSecrets.existingSecret }}
- name: tenant-secrets
  secret: { secretName: {{ .Values.tenantSecrets.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- if .Values.incidentWebhook.existingSecret }}
- name: incident-webhook
  secret: { secretName: {{ .Values.incidentWebhook.existingSecret }}, defaultMode: 0440 }
{{- end }}
{{- end -}}

{{- define "cp.secretMounts" -}}
- name: data
  mountPath: /var/lib/preflight
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /var/run/secrets/preflight/kafka-tls
  readOnly: true
{{- end }}
{{- if .Values.kafka.sasl.existingSecret }}
- name: kafka-sasl
  mountPath: /var/run/secrets/preflight/kafka-sasl
  readOnly: true
{{- end }}
{{- if .Values.schemaRegistry.auth.existingSecret }}
- name: registry-auth
  mountPath: /var/run/secrets/preflight/registry-auth
  readOnly: true
{{- end }}
{{- if .Values.schemaRegistry.tls.existingSecret }}
- name: registry-tls
  mountPath: /var/run/secrets/preflight/registry-tls
  readOnly: true
{{- end }}
{{- if .Values.apiAuth.existingSecret }}
- name: api-auth
  mountPath: /var/run/secrets/preflight/api-auth
  readOnly: true
{{- end }}
{{- if .Values.tenantSecrets.existingSecret }}
- name: tenant-secrets
  mountPath: {{ .Values.tenantSecrets.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.incidentWebhook.existingSecret }}
- name: incident-webhook
  mountPath: /var/run/secrets/preflight/incident-webhook
  readOnly: true
{{- end }}
{{- end -}}

{{- define "cp.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
# Service links would put KAFKA_PORT=tcp://… into the environment for a Service named kafka.
enableServiceLinks: false
automountServiceAccountToken: false
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
