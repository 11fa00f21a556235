"""services/<name>.yaml: every function as a Knative Service of one shape. Only the names,
the ConfigMap and (for notify) the sink secrets differ; the header says why each
setting is what it is.
"""

from __future__ import annotations

from string import Template
from typing import Any

from catalogue import interact, notify, site, specs, undo
from catalogue.yamltext import comment, document, generated, scalar
from shared.acting.spec import Spec

SERVICE = Template(
    """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: $name
  namespace: $namespace
  labels:
$labels$visibility
spec:
  template:
    metadata:
      labels:
$template_labels
      annotations:
        autoscaling.knative.dev/min-scale: $min_scale
        autoscaling.knative.dev/max-scale: $max_scale
    spec:
      serviceAccountName: $name
$automount      containerConcurrency: $concurrency
      timeoutSeconds: $timeout
      containers:
        - name: function
          image: $image
          ports:
            - name: http1
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: $name-config
          env:
$env
          volumeMounts:
$mounts
          readinessProbe:
            httpGet:
              path: /_/ready
          resources:
            requests: {cpu: 50m, memory: 128Mi}
            limits: {memory: 256Mi}
          securityContext:
            runAsNonRoot: true
            runAsUser: 65532
            runAsGroup: 65532
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
            seccompProfile:
              type: RuntimeDefault
      volumes:
$volumes
"""
)


def reasons(name: str, *more: str) -> str:
    """Why each setting of a Service is what it is, and `more` bullets."""
    bullets = "\n".join(f"- {bullet}" for bullet in more)
    return f"""
{name} as a Knative Service. Every riposte function has this shape; only the names, the
ConfigMap and (for notify) the sink secrets differ. Why each setting:

- networking.knative.dev/visibility: cluster-local: only the broker calls it, from inside
the cluster; never the public ingress. networkpolicy.yaml narrows that further.
- Scale to zero (min-scale "0"): alerts are rare, and a cold start (about a second, plus
scheduling) is far inside the broker's retry window; the broker holds the event meanwhile.
Set min-scale "1" in an overlay to trade ~100 MB of memory for that second. max-scale
"{site.MAX_SCALE}" bounds the load a storm of alerts can put on the apiserver.
- containerConcurrency {site.CONTAINER_CONCURRENCY} matches the image's
THREADS={site.CONTAINER_CONCURRENCY} (one gunicorn worker, {site.CONTAINER_CONCURRENCY}
threads): the queue-proxy never hands the container more requests than it has threads.
- timeoutSeconds {site.TIMEOUT_SECONDS}: RIPOSTE_DEADLINE_SECONDS ({site.DEADLINE_SECONDS})
bounds the function's own work, retries included; {site.TIMEOUT_SECONDS} s leaves room for
a cold start, far inside Knative's max-revision-timeout-seconds (600 by default).
- Settings come from the generated ConfigMap {name}-config (config/{name}.env, envFrom); the
sender token from the Secret riposte-token, mounted as a file that RIPOSTE_TOKEN_FILE names,
never in the environment.
- Locked down: its own ServiceAccount (rbac/{name}.yaml), user 65532 and never root, a
read-only root filesystem (gunicorn's worker heartbeat goes to TMPDIR=/dev/shm, set in the
image, so no writable emptyDir is needed), no privilege escalation, all capabilities
dropped, seccomp RuntimeDefault.
{bullets}
"""


NOTIFY_REASONS = (
    "notify never calls the Kubernetes API: its ServiceAccount has no role and no API token is "
    "mounted (automountServiceAccountToken: false, here and on the ServiceAccount).",
    "Each sink is enabled by its URL. The URLs are credentials (Slack and Teams put theirs in the "
    f"path): mounted as files from the Secret {notify.SINKS_SECRET}, never in the environment. An "
    "empty file leaves that sink off.",
)


def service(
    name: str,
    header: list[str],
    *,
    is_notify: bool = False,
    secrets: tuple[tuple[str, str, str, str], ...] = (),
    public: bool = False,
    pod_labels: dict[str, str] | None = None,
) -> str:
    """`secrets`: (variable, mount path, Secret, key) of further secret files. `public`:
    reachable through the public ingress, one replica always (interact only)."""
    env = [("RIPOSTE_TOKEN_FILE", f"{site.TOKEN_DIR}/token")]
    mounts = [("token", site.TOKEN_DIR, "riposte-token")]
    for variable, path, secret, key in secrets:
        env.append((variable, f"{path}/{key}"))
        mounts.append((secret.removeprefix("riposte-"), path, secret))
    if is_notify:
        env += [(variable, f"{notify.SINKS_DIR}/{key}") for variable, key in notify.sink_files()]
        mounts.append(("sinks", notify.SINKS_DIR, notify.SINKS_SECRET))
    labels = [f"{key}: {value}" for key, value in site.labels(name).items()]
    in_pods = [f"{key}: {scalar(value)}" for key, value in (pod_labels or site.labels(name)).items()]
    body = SERVICE.substitute(
        name=name,
        namespace=site.NAMESPACE,
        labels="\n".join(f"    {label}" for label in labels),
        visibility="" if public else "\n    networking.knative.dev/visibility: cluster-local",
        min_scale=scalar("1" if public else "0"),
        template_labels="\n".join(f"        {label}" for label in in_pods),
        max_scale=scalar(str(site.MAX_SCALE)),
        automount="      automountServiceAccountToken: false\n" if is_notify else "",
        concurrency=site.CONTAINER_CONCURRENCY,
        timeout=site.TIMEOUT_SECONDS,
        image=site.image(name),
        env="\n".join(
            f"            - name: {variable}\n              value: {value}" for variable, value in env
        ),
        mounts="\n".join(
            f"            - name: {volume}\n              mountPath: {path}\n              readOnly: true"
            for volume, path, _ in mounts
        ),
        volumes="\n".join(
            f"        - name: {v}\n          secret:\n            secretName: {secret}"
            for v, _, secret in mounts
        ),
    )
    return "\n".join(header) + "\n" + body


def acting(spec: Spec[Any]) -> str:
    header = [generated(specs.source(spec.name)), "#", *comment(reasons(spec.name))]
    return service(spec.name, header)


def for_undo() -> str:
    more = (
        "undo verifies interact's signature on every undo request with the approval key, mounted "
        f"from the Secret {undo.APPROVAL_KEY_SECRET} (the same key interact and, in approval mode, "
        "the acting functions hold).",
    )
    header = [generated(undo.SOURCE, "catalogue/undo.py"), "#", *comment(reasons(undo.NAME, *more))]
    key = ("RIPOSTE_APPROVAL_KEY_FILE", undo.APPROVAL_KEY_DIR, undo.APPROVAL_KEY_SECRET, "key")
    return service(undo.NAME, header, secrets=(key,))


def for_notify() -> str:
    header = [generated(notify.SOURCE, "that"), "#", *comment(reasons(notify.NAME, *NOTIFY_REASONS))]
    link = ("RIPOSTE_LINK_SECRET_FILE", interact.LINK_SECRET_DIR, interact.LINK_SECRET, "key")
    return service(notify.NAME, header, is_notify=True, secrets=(link,))


INTERACT_REASONS = f"""
interact as a Knative Service: the one riposte function reachable from outside the
cluster (Slack's interactivity requests, the review links people open). So, unlike the
others:

- No cluster-local visibility: it is served on the public ingress, at the address set as
RIPOSTE_INTERACT_URL (config/interact.env) and in the Slack app (deploy/slack/manifest.yaml).
Terminate TLS there: Slack requires https.
- min-scale "1": Slack gives an interaction 3 seconds, a cold start can take longer.
max-scale "{site.MAX_SCALE}", containerConcurrency {site.CONTAINER_CONCURRENCY} and
timeoutSeconds {site.TIMEOUT_SECONDS} as every function.
- Its pods are not labelled part-of riposte: networkpolicy.yaml does not select them, the
NetworkPolicy below does (and an SSO overlay narrows it).
- Secrets as files: the sender token (it presents it to the acting functions and undo),
the approval key (it signs every decision), the link secret (notify signs buttons and
links with it) and the Slack signing secret ({interact.SLACK_SECRET}). Its ServiceAccount
may get and update approval records, nothing else.
- Locked down as every function: user 65532, read-only root filesystem, no privilege
escalation, all capabilities dropped, seccomp RuntimeDefault.
"""


def for_interact() -> str:
    header = [generated(interact.SOURCE, "catalogue/interact.py"), "#", *comment(INTERACT_REASONS)]
    body = service(
        interact.NAME, header, secrets=interact.secrets(), public=True, pod_labels=interact.pod_labels()
    )
    return document([*body.rstrip("\n").split("\n")], *interact.extras())
