"""budget.yaml (one Lease per acting function) and kustomization.yaml (every file,
generated ConfigMap, Secret and image)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue import interact, notify, site, undo
from catalogue.yamltext import comment, document, generated, scalar
from shared import names
from shared.acting.spec import Spec


def budget(specs_: Sequence[Spec[Any]]) -> str:
    example = names.budget_lease(specs_[0].name if specs_ else "<function>")
    header = [
        generated("functions/*/main.py", "the specs"),
        "#",
        *comment(
            f"""
            The blast-radius budget of each acting function (shared/acting/budget.py): its
            recent actions and per-target cooldowns live in its Lease's annotations, so the
            limit holds across every replica. The functions may only get and update their
            own Lease (no create), so the Leases ship here.

            Inspect, and reset:
              kubectl -n {site.NAMESPACE} get lease {example} -o yaml
              kubectl -n {site.NAMESPACE} annotate lease {example} riposte.io/spent- riposte.io/cooldowns-
            """
        ),
    ]
    docs = [
        [
            "apiVersion: coordination.k8s.io/v1",
            "kind: Lease",
            *site.metadata(names.budget_lease(name), name, site.NAMESPACE),
            "spec: {}",
        ]
        for name in sorted([spec.name for spec in specs_] + [undo.NAME])
    ]
    if not docs:
        return "\n".join(header) + "\n"
    return document([*header, *docs[0]], *docs[1:])


KUSTOMIZATION_HEAD = """
    riposte on Knative: `kubectl apply -k` of an overlay of this directory (deploy/README.md
    first: the secrets under secrets/ are placeholders that keep the functions from
    starting). Settings and images are changed in that overlay too, not here.
    """
GENERATED_NAMES = """
    Generated names carry a hash of their content, so a changed setting or secret rolls out
    a new Knative revision instead of waiting for pods to restart. kustomizeconfig.yaml
    teaches kustomize where a Knative Service refers to them.
    """
PLACEHOLDERS = """
    The placeholders fail closed: a token or URL that is not one makes the function refuse
    to start, and Knative keeps serving the last good revision. Replace them in an overlay
    of your own (deploy/README.md), not in this checkout.
    """
IMAGES = f"""
    One image per function, built from the repository's Dockerfile (--build-arg
    FUNCTION=<folder>). Set yours in your overlay: `kustomize edit set image
    {site.REGISTRY}/<name>=<registry>/<name>:<tag>` there (the name these entries give
    the images), or for every checkout REGISTRY and TAG in catalogue/site.py, then `make
    manifests`.
    """


OPT_IN = """
    Opt-in responses, with no default rules ({names}): their ServiceAccounts, RBAC, budget
    Leases and settings ship here, their Services do not (they refuse to start without
    RIPOSTE_RULES). Enable one in your overlay: `components: [.../opt-in/<name>]`, a
    configMapGenerator merging RIPOSTE_RULES into `<name>-config`, and one Trigger per
    rule (deploy/README.md "Opt-in responses").
    """


def opt_in(spec: Spec[Any]) -> str:
    """opt-in/<name>/kustomization.yaml: the Component an overlay adds to serve `spec`."""
    return document(
        [
            generated(f"functions/{spec.name.replace('-', '_')}/main.py", "its spec"),
            "#",
            *comment(
                f"""
                {spec.name} is opt-in: add this Component to your overlay, with RIPOSTE_RULES
                merged into {spec.name}-config and one Trigger per rule (deploy/README.md).
                """
            ),
            "apiVersion: kustomize.config.k8s.io/v1alpha1",
            "kind: Component",
            "resources:",
            "  - service.yaml",
            "images:",
            f"  - name: {site.image(spec.name)}",
            f"    newName: {site.REGISTRY}/{spec.name}",
            f"    newTag: {scalar(site.TAG)}",
        ]
    )


def kustomization(specs_: Sequence[Spec[Any]]) -> str:
    names = sorted([spec.name for spec in specs_] + [notify.NAME, undo.NAME, interact.NAME])
    served = sorted(
        [spec.name for spec in specs_ if not spec.requires_rules] + [notify.NAME, undo.NAME, interact.NAME]
    )
    opt_in = sorted(spec.name for spec in specs_ if spec.requires_rules)
    with_triggers = sorted([spec.name for spec in specs_ if spec.rules] + [notify.NAME, undo.NAME])
    resources = [
        "namespace.yaml",
        "budget.yaml",
        *(f"rbac/{name}.yaml" for name in names),
        "broker.yaml",
        *(f"services/{name}.yaml" for name in served),
        *(f"triggers/{name}.yaml" for name in with_triggers),
        "networkpolicy.yaml",
    ]
    configs = [
        line
        for name in names
        for line in (
            f"  - name: {name}-config",
            f"    namespace: {site.NAMESPACE}",
            f"    envs: [config/{name}.env]",
        )
    ]
    sinks = [f"      - {key}=secrets/{key}" for _, key in notify.sink_files()]
    images = [
        line
        for name in names
        for line in (
            f"  - name: {site.image(name)}",
            f"    newName: {site.REGISTRY}/{name}",
            f"    newTag: {scalar(site.TAG)}",
        )
    ]
    lines = [
        generated("functions/*/main.py", "the specs"),
        "#",
        *comment(KUSTOMIZATION_HEAD),
        *(comment(OPT_IN.format(names=", ".join(opt_in))) if opt_in else []),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        *(f"  - {resource}" for resource in resources),
        "",
        *comment(GENERATED_NAMES),
        "configurations:",
        "  - kustomizeconfig.yaml",
        "",
        "generatorOptions:",
        "  labels:",
        "    app.kubernetes.io/part-of: riposte",
        "",
        "configMapGenerator:",
        *configs,
        "",
        *comment(PLACEHOLDERS),
        "secretGenerator:",
        "  - name: riposte-token",
        f"    namespace: {site.NAMESPACE}",
        "    files:",
        "      - token=secrets/token",
        f"  - name: {undo.APPROVAL_KEY_SECRET}",
        f"    namespace: {site.NAMESPACE}",
        "    files:",
        "      - key=secrets/approval-key",
        f"  - name: {interact.LINK_SECRET}",
        f"    namespace: {site.NAMESPACE}",
        "    files:",
        "      - key=secrets/link-secret",
        f"  - name: {interact.SLACK_SECRET}",
        f"    namespace: {site.NAMESPACE}",
        "    files:",
        "      - key=secrets/slack-signing-secret",
        f"  - name: {notify.SINKS_SECRET}",
        f"    namespace: {site.NAMESPACE}",
        "    files:",
        *sinks,
        "",
        *comment(IMAGES),
        "images:",
        *images,
    ]
    return document(lines)
