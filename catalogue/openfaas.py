"""deploy/openfaas from the specs: stack.yml (CE) and standard/functions.yaml (the Function
CRs of Standard/Enterprise). Same images and settings as deploy/knative; the secrets are
files under /var/openfaas/secrets. The RBAC is in rbac.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalogue import interact, notify, settings, site, specs, undo
from catalogue.yamltext import comment, document, generated, scalar
from shared.acting.spec import Spec

STACK_HEAD = f"""
    riposte on OpenFaaS CE (faas-cli 0.16+): `faas-cli deploy -f deploy/openfaas/stack.yml`
    after `kubectl apply -f deploy/openfaas/rbac.yaml` and the secrets (deploy/README.md).

    OpenFaaS CE limits, and what this file does about them:

    - Functions live in `{site.OPENFAAS_FN}` only, and all run as its `default`
    ServiceAccount: per-function ServiceAccounts are OpenFaaS Pro/Standard only since 2022.
    rbac.yaml therefore binds every acting function's roles to that one account, so every
    function in {site.OPENFAAS_FN} (notify, and anything else deployed there) holds the
    union of their rights. Dedicate the OpenFaaS CE install to riposte. The production path
    is deploy/openfaas/standard/ (Function CRs, one ServiceAccount each).
    - No scale to zero (Pro only): com.openfaas.scale.min "1" keeps one replica each.
    - No Function CRD/operator (Standard/Enterprise); no retries of failed invocations.
    - Images must be public; the CE licence is for non-production use.

    How alerts get here: Falcosidekick has one output of each kind, each with one target,
    and its `openfaas` output sends no headers, so it cannot carry the sender token.
    deploy/falco/values-openfaas.yaml points the `webhook` output (`Authorization: Bearer
    <token>`) at one acting function and the `cloudevents` output (the token as the
    `authtoken` extension) at another; an acting function beyond those two gets no alerts
    on CE until a dispatcher or a second Falcosidekick sends them (deploy/README.md). Every
    acting function POSTs its riposte.action.v1 result to notify through the gateway
    (RIPOSTE_RESULT_URL), with the token as `authtoken`. So on OpenFaaS notify reports what
    riposte did; for raw alerts, enable Falcosidekick's own Slack/Teams outputs.

    Settings are those of deploy/knative/config (rendered from the same specs), and:

    - RIPOSTE_NAMESPACE {site.NAMESPACE}: copies of what riposte removes may hold
    credentials; they stay in `{site.NAMESPACE}`, away from {site.OPENFAAS_FN}, whose one
    ServiceAccount every function shares. The budget Leases live there too.
    - RIPOSTE_PROTECTED_NAMESPACES replaces the defaults: the OpenFaaS namespaces are
    protected too.
    - handler ../..: the repository root, whose Dockerfile builds any function
    (build_args FUNCTION); readonly_root_filesystem: TMPDIR=/dev/shm is set in the image.

    Opt-in functions (no default rules, e.g. label-pod) are not listed: copy an acting
    function's entry, change the names and set RIPOSTE_RULES; rbac.yaml already holds
    their rights.
    """
STANDARD_HEAD = """
    OpenFaaS Standard/Enterprise (the operator and its Function CRD): the production option.
    Same images, settings and secrets as ../stack.yml; in addition each function runs as
    its own ServiceAccount (rbac.yaml beside this file), so notify holds no rights and no
    acting function holds another's. The Function CRD has no serviceAccountName field: the
    account is named by the `com.openfaas.serviceaccount` annotation (checked against the
    CRD in tests/deploy). Scale to zero is on (the com.openfaas.scale.zero label), since
    these editions support it.
    """


def image(name: str) -> str:
    return f"{site.REGISTRY}/{name}:{site.TAG}"


def secrets_of(environment: Mapping[str, str]) -> list[str]:
    """The OpenFaaS secrets its `_FILE` variables read, in order."""
    prefix = site.OPENFAAS_SECRETS + "/"
    return [value.removeprefix(prefix) for key, value in environment.items() if key.endswith("_FILE")]


def environments(specs_: Sequence[Spec[Any]]) -> dict[str, dict[str, str]]:
    """Every served function's environment, by name, sorted. Opt-in functions (no default
    rules) are left out: they refuse to start until their deployer names the rules."""
    found = {spec.name: settings.openfaas(spec) for spec in specs_ if not spec.requires_rules}
    found[notify.NAME] = settings.openfaas_notify()
    found[undo.NAME] = {
        "RIPOSTE_DEADLINE_SECONDS": str(site.DEADLINE_SECONDS),
        "RIPOSTE_NAMESPACE": site.NAMESPACE,
        "RIPOSTE_TOKEN_FILE": f"{site.OPENFAAS_SECRETS}/riposte-token",
        "RIPOSTE_APPROVAL_KEY_FILE": f"{site.OPENFAAS_SECRETS}/{undo.APPROVAL_KEY_SECRET}",
        "RIPOSTE_RESULT_URL": f"{site.GATEWAY}/function/{notify.NAME}",
    }
    found[interact.NAME] = {
        "RIPOSTE_DEADLINE_SECONDS": str(site.DEADLINE_SECONDS),
        "RIPOSTE_NAMESPACE": site.NAMESPACE,
        "RIPOSTE_INTERACT_URL": interact.PUBLIC_URL,
        # No broker on OpenFaaS: each approval goes to the function its record names.
        "RIPOSTE_APPROVAL_URL": f"{site.GATEWAY}/function/{{function}}",
        "RIPOSTE_UNDO_URL": f"{site.GATEWAY}/function/{undo.NAME}",
        "RIPOSTE_TOKEN_FILE": f"{site.OPENFAAS_SECRETS}/riposte-token",
        **{variable: f"{site.OPENFAAS_SECRETS}/{secret}" for variable, _, secret, _ in interact.secrets()},
    }
    return dict(sorted(found.items()))


def sweep_cronjob() -> str:
    """deploy/openfaas/undo-sweep.yaml: what Knative's PingSource does, for OpenFaaS."""
    header = [
        generated(undo.SOURCE, "catalogue/undo.py"),
        "#",
        *comment(
            """
            OpenFaaS has no PingSource: this CronJob POSTs what a PingSource would (a
            `dev.knative.sources.ping` CloudEvent) to undo through the gateway every minute,
            so quarantines and cordons with a TTL are released on time and stale approvals
            expire. The sweep carries no authority of its own (undo only does what riposte's
            expiry annotations say), so that one event type needs no token.
            """
        ),
    ]
    body = [
        "apiVersion: batch/v1",
        "kind: CronJob",
        *site.metadata(f"{undo.NAME}-sweep", undo.NAME, site.OPENFAAS_FN),
        "spec:",
        f'  schedule: "{undo.SCHEDULE}"',
        "  concurrencyPolicy: Forbid",
        "  successfulJobsHistoryLimit: 1",
        "  failedJobsHistoryLimit: 3",
        "  jobTemplate:",
        "    spec:",
        "      backoffLimit: 0",
        "      activeDeadlineSeconds: 50",
        "      template:",
        "        spec:",
        "          restartPolicy: Never",
        "          automountServiceAccountToken: false",
        "          containers:",
        "            - name: sweep",
        "              image: curlimages/curl:8.11.1",
        "              args: [-fsS, -m, '30', -H, 'Content-Type: application/json', -d, '{\"sweep\": true}',",
        f"                     {site.GATEWAY}/function/{undo.NAME}]",
        "              securityContext:",
        "                runAsNonRoot: true",
        "                allowPrivilegeEscalation: false",
        "                readOnlyRootFilesystem: true",
        "                capabilities: {drop: [ALL]}",
    ]
    return document([*header, *body])


def stack_entry(name: str, environment: Mapping[str, str]) -> list[str]:
    return [
        f"  {name}:",
        "    lang: dockerfile",
        "    handler: ../..",
        f"    image: {image(name)}",
        "    build_args:",
        f"      FUNCTION: {specs.folder(name)}",
        "    readonly_root_filesystem: true",
        "    labels:",
        '      com.openfaas.scale.min: "1"',
        f"      com.openfaas.scale.max: {scalar(str(site.MAX_SCALE))}",
        "    environment:",
        *(f"      {key}: {scalar(value)}" for key, value in environment.items()),
        "    secrets:",
        *(f"      - {secret}" for secret in secrets_of(environment)),
        "    requests: {cpu: 50m, memory: 128Mi}",
        "    limits: {memory: 256Mi}",
    ]


def stack(specs_: Sequence[Spec[Any]]) -> str:
    entries = [
        line
        for number, (name, environment) in enumerate(environments(specs_).items())
        for line in ([""] if number else []) + stack_entry(name, environment)
    ]
    lines = [
        generated("functions/*/main.py", "the specs"),
        "#",
        *comment(STACK_HEAD),
        "version: 1.0",
        "provider:",
        "  name: openfaas",
        "  gateway: http://127.0.0.1:8080",
        "",
        "functions:",
        *entries,
    ]
    return document(lines)


def function_cr(name: str, environment: Mapping[str, str]) -> list[str]:
    return [
        "apiVersion: openfaas.com/v1",
        "kind: Function",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {site.OPENFAAS_FN}",
        "spec:",
        f"  name: {name}",
        f"  image: {image(name)}",
        "  readOnlyRootFilesystem: true",
        "  labels:",
        '    com.openfaas.scale.zero: "true"',
        f"    com.openfaas.scale.max: {scalar(str(site.MAX_SCALE))}",
        "  annotations:",
        f"    com.openfaas.serviceaccount: {name}",
        "  environment:",
        *(f"    {key}: {scalar(value)}" for key, value in environment.items()),
        "  secrets:",
        *(f"    - {secret}" for secret in secrets_of(environment)),
        "  requests:",
        "    cpu: 50m",
        "    memory: 128Mi",
        "  limits:",
        "    memory: 256Mi",
    ]


def standard_functions(specs_: Sequence[Spec[Any]]) -> str:
    header = [generated("functions/*/main.py", "the specs"), "#", *comment(STANDARD_HEAD)]
    docs = [function_cr(name, environment) for name, environment in environments(specs_).items()]
    return document([*header, *docs[0]], *docs[1:])
