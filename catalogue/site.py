"""What every rendered file shares: where riposte runs, its images, its defaults.

Change a value here and run `make manifests`; tests/deploy/test_manifests.py checks the
defaults against the ones the code falls back on (shared/config.py), so a deployed
setting never silently differs from the documented default.
"""

from __future__ import annotations

from catalogue.yamltext import mapping

NAMESPACE = "riposte"  # riposte's own namespace: copies, budget Leases, every function
BROKER = "riposte"
# Images: <REGISTRY>/<name>:<TAG>, built with `--build-arg FUNCTION=<folder>` (Dockerfile).
REGISTRY = "ghcr.io/riposte"
TAG = "0.1.0"

# Defaults written into every acting function's configuration (shared/config.py's own).
DEADLINE_SECONDS = 10
BUDGET = "10/60s"
COOLDOWN_SECONDS = 60

# Knative Services (services/*.yaml explain each number).
MAX_SCALE = 5
CONTAINER_CONCURRENCY = 8  # the image's THREADS (Dockerfile)
TIMEOUT_SECONDS = 30
TOKEN_DIR = "/var/run/secrets/riposte/token"

# Knative delivery, the same on every Trigger (triggers/*.yaml explain it); broker.yaml,
# written by hand, repeats it and the tests compare the two.
DELIVERY: dict[str, int | str] = {
    "retry": 8,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT1S",
    "format": "binary",
}
FALCO_EVENT_TYPE = "falco.rule.output.v1"
RESULT_EVENT_TYPE = "riposte.action.v1"

# OpenFaaS.
OPENFAAS_FN = "openfaas-fn"
OPENFAAS_SECRETS = "/var/openfaas/secrets"
GATEWAY = "http://gateway.openfaas.svc.cluster.local:8080"
# Replaces the defaults there: the OpenFaaS namespaces are protected too.
OPENFAAS_PROTECTED = ("kube-system", "kube-public", "kube-node-lease", "openfaas", OPENFAAS_FN)


def image(name: str) -> str:
    """The image a function's manifests name before a registry is set (kustomize `images:`)."""
    return f"riposte/{name}"


def labels(name: str) -> dict[str, str]:
    """The labels of every object made for one function."""
    return {"app.kubernetes.io/part-of": "riposte", "app.kubernetes.io/name": name}


def metadata(name: str, function: str, namespace: str | None = None) -> list[str]:
    """An object's `metadata:` lines: its name, namespace and the labels of `function`."""
    lines = ["metadata:", f"  name: {name}"]
    if namespace is not None:
        lines.append(f"  namespace: {namespace}")
    return [*lines, f"  labels: {mapping(labels(function))}"]
