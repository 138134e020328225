{{/* Names. */}}

{{- define "roomring.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The full name prefixes every resource. StatefulSet pods are named
<fullname>-<ordinal> and their names become node names in the ring and in
Room status, so it is kept short enough for the pod's hostname label.
*/}}
{{- define "roomring.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "roomring.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource names of each part. */}}
{{- define "roomring.nodeName" -}}{{ include "roomring.fullname" . }}{{- end -}}
{{- define "roomring.gossipServiceName" -}}{{ include "roomring.fullname" . }}-gossip{{- end -}}
{{- define "roomring.poolServiceName" -}}{{ include "roomring.fullname" . }}-pool{{- end -}}
{{- define "roomring.clientServiceName" -}}{{ include "roomring.fullname" . }}{{- end -}}
{{- define "roomring.operatorName" -}}{{ include "roomring.fullname" . }}-operator{{- end -}}

{{- define "roomring.secretName" -}}
{{- default (include "roomring.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "roomring.nodeServiceAccountName" -}}
{{- if .Values.node.serviceAccount.create -}}
{{- default (printf "%s-node" (include "roomring.fullname" .)) .Values.node.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.node.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "roomring.operatorServiceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (printf "%s-operator" (include "roomring.fullname" .)) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "roomring.kubeNamespace" -}}
{{- default .Release.Namespace .Values.node.kubeNamespace -}}
{{- end -}}

{{/* Labels. */}}

{{- define "roomring.labels" -}}
helm.sh/chart: {{ include "roomring.chart" . }}
app.kubernetes.io/name: {{ include "roomring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: roomring
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "roomring.selectorLabels" -}}
app.kubernetes.io/name: {{ include "roomring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "roomring.nodeSelectorLabels" -}}
{{ include "roomring.selectorLabels" . }}
app.kubernetes.io/component: node
{{- end -}}

{{- define "roomring.operatorSelectorLabels" -}}
{{ include "roomring.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "roomring.nodeLabels" -}}
{{ include "roomring.labels" . }}
app.kubernetes.io/component: node
{{- end -}}

{{- define "roomring.operatorLabels" -}}
{{ include "roomring.labels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The image reference: repository@digest, or repository:tag. */}}
{{- define "roomring.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
An environment variable read from the chart's Secret (or existingSecret).
Arguments: (list $ "ENV_NAME" "keyName") where keyName is a key of
.Values.secrets.keys.
*/}}
{{- define "roomring.secretEnv" -}}
{{- $root := index . 0 -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "roomring.secretName" $root }}
      key: {{ index $root.Values.secrets.keys (index . 2) }}
{{- end -}}

{{/* Probe timing from a values map. */}}
{{- define "roomring.probeTiming" -}}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{/*
Checks that span several values (values.schema.json checks each value on
its own).
*/}}
{{- define "roomring.validate" -}}
{{- $n := .Values.node -}}
{{- if lt (int $n.terminationGracePeriodSeconds) (add (int $n.preStopSleepSeconds) (int $n.shutdownTimeoutSeconds) 5 | int) -}}
{{- fail (printf "node.terminationGracePeriodSeconds (%d) must be at least node.preStopSleepSeconds + node.shutdownTimeoutSeconds + 5 (%d): the node needs the time to leave the ring and close its sockets" (int $n.terminationGracePeriodSeconds) (add (int $n.preStopSleepSeconds) (int $n.shutdownTimeoutSeconds) 5 | int)) -}}
{{- end -}}
{{- $p := $n.ports -}}
{{- if ne (len (uniq (list (int $p.http) (int $p.admin) (int $p.gossip) (int $p.peer)))) 4 -}}
{{- fail "node.ports.http, node.ports.admin, node.ports.gossip and node.ports.peer must differ" -}}
{{- end -}}
{{- if and (gt (int $n.replicas) 1) (not .Values.store.dsnSecret.name) (not .Values.store.allowNodeLocalStore) -}}
{{- fail "node.replicas > 1 needs a PostgreSQL store (store.dsnSecret.name): without it each node keeps resource reactions in its own emptyDir and a room's reactions are lost when its owner dies. Set store.allowNodeLocalStore=true to accept that (tests only)." -}}
{{- end -}}
{{- $a := .Values.autoscaling -}}
{{- if $a.enabled -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and (gt (int $a.maxReplicas) 1) (not .Values.store.dsnSecret.name) (not .Values.store.allowNodeLocalStore) -}}
{{- fail "autoscaling.maxReplicas > 1 needs a PostgreSQL store (store.dsnSecret.name), as node.replicas > 1 does" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The operator's rules in the Rooms' namespace: reconcile, status, finalizer, and its claim on the namespace (a Lease). */}}
{{- define "roomring.operatorRoomRules" -}}
- apiGroups: ["roomring.dev"]
  resources: ["rooms", "worlds"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["roomring.dev"]
  resources: ["rooms/status", "worlds/status"]
  verbs: ["get", "update"]
- apiGroups: ["roomring.dev"]
  resources: ["rooms/finalizers", "worlds/finalizers"]
  verbs: ["update"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
# the JWT secrets of the Worlds (spec.jwt.secrets): the operator caches
# their metadata only, and reads a referenced Secret's data when it pushes
# the World
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{/*
Whether this release renders the CRD named by the argument, (list $ NAME):
crds.install is set and the CRD is absent or already this release's (Helm's
ownership annotations). A CRD that another release installed, or that an
uninstalled release left behind (helm.sh/resource-policy: keep), is shared:
used as it is and not rendered, so a second release or a reinstall under
another name does not fail on Helm's ownership check. `helm template` has no
cluster to look up and always renders it.
*/}}
{{- define "roomring.manageCRD" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.crds.install -}}
{{- $owner := include "roomring.crdOwner" . -}}
{{- if or (eq $owner "") (eq $owner (printf "%s/%s" $root.Release.Namespace $root.Release.Name)) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The CRD's owner as NAMESPACE/RELEASE, "-" for a CRD that no release owns, or
"" when it does not exist (or there is no cluster to ask). Argument: (list $
NAME).
*/}}
{{- define "roomring.crdOwner" -}}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" (index . 1) -}}
{{- if $crd -}}
{{- $a := dig "metadata" "annotations" dict $crd -}}
{{- $rel := get $a "meta.helm.sh/release-name" -}}
{{- if $rel -}}{{ get $a "meta.helm.sh/release-namespace" }}/{{ $rel }}{{- else -}}-{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The data of the chart's Secret, as YAML (key: base64). Each key takes, in
order: the value given in values, the value the Secret already holds
(lookup: upgrades and reinstalls keep what the install generated), or a new
random string. Computed once per render and kept in the render's top-level
context, so secret.yaml and the checksum annotations see the same random
values.
*/}}
{{- define "roomring.secretData" -}}
{{- if not (hasKey . "roomringSecretData") -}}
{{- $existing := (lookup "v1" "Secret" .Release.Namespace (include "roomring.secretName" .)).data | default dict -}}
{{- $given := dict "jwtSecret" .Values.secrets.jwtSecret "clusterKey" .Values.secrets.clusterKey "adminToken" .Values.secrets.adminToken -}}
{{- $data := dict -}}
{{- range $field := list "jwtSecret" "clusterKey" "adminToken" -}}
{{- $key := index $.Values.secrets.keys $field -}}
{{- if index $given $field -}}
{{- $_ := set $data $key (index $given $field | b64enc) -}}
{{- else if index $existing $key -}}
{{- $_ := set $data $key (index $existing $key) -}}
{{- else -}}
{{- $_ := set $data $key (randAlphaNum 48 | b64enc) -}}
{{- end -}}
{{- end -}}
{{- $_ := set . "roomringSecretData" $data -}}
{{- end -}}
{{- toYaml (get . "roomringSecretData") -}}
{{- end -}}

{{/*
Pod template annotations that roll the pods when the keys change: a hash of
the chart's Secret as rendered, or of existingSecret's data when lookup can
read it (GitOps renders without a cluster get a constant there).
*/}}
{{- define "roomring.checksumAnnotations" -}}
{{- if .Values.secrets.existingSecret -}}
checksum/secret: {{ (lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret).data | default dict | toJson | sha256sum }}
{{- else -}}
checksum/secret: {{ include "roomring.secretData" . | sha256sum }}
{{- end -}}
{{- end -}}

{{/* The node container port Prometheus scrapes: admin with
node.metricsOnAdminListener (--metrics-on-admin), else http. */}}
{{- define "roomring.nodeMetricsPort" -}}
{{- if .Values.node.metricsOnAdminListener }}admin{{ else }}http{{ end -}}
{{- end -}}

{{/* "true" when a monitoring.coreos.com/v1 kind may be rendered: the
cluster serves it, or metrics.renderWithoutCRDs. Call with (list $ "Kind"). */}}
{{- define "roomring.monitoringKind" -}}
{{- $root := index . 0 -}}
{{- if or $root.Values.metrics.renderWithoutCRDs ($root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" (index . 1))) -}}
true
{{- end -}}
{{- end -}}

{{/* "true" when a ServiceMonitor or PodMonitor is rendered. */}}
{{- define "roomring.scraped" -}}
{{- $m := .Values.metrics -}}
{{- if or (and $m.serviceMonitor.enabled (include "roomring.monitoringKind" (list . "ServiceMonitor"))) (and $m.podMonitor.enabled (include "roomring.monitoringKind" (list . "PodMonitor"))) -}}
true
{{- end -}}
{{- end -}}
