"""interact's deployed shape. It is not on the acting runner (it serves humans and Slack,
not alerts), so its manifests are stated here, from what functions/interact/main.py
declares (its RBAC grants) and shared/interact/settings.py (its settings):

- rbac/interact.yaml: exactly those grants (get and update ConfigMaps in
  riposte-approvals, nothing else), proven by tests/integration/test_rbac.py;
- config/interact.env: its settings at their defaults, the ones only a deployer knows
  (approvers, its public URL, the Slack workspace) left for an overlay;
- services/interact.yaml: the one public Knative Service (min-scale 1: Slack gives an
  interaction 3 seconds), its own ingress NetworkPolicy, and the SinkBinding that gives it
  K_SINK, the broker its decisions go to;
- deploy/slack/manifest.yaml: the Slack app (incoming webhook for notify, interactivity
  pointed at interact).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from catalogue import notify, site, specs, undo
from catalogue.yamltext import comment, document, generated, mapping
from shared.acting.spec import Grant
from shared.interact import settings as interact_settings

NAME = "interact"
SOURCE = specs.source(NAME)
LINK_SECRET = notify.LINK_SECRET
LINK_SECRET_DIR = "/var/run/secrets/riposte/link-secret"
SLACK_SECRET = "riposte-slack-signing-secret"
SLACK_SECRET_DIR = "/var/run/secrets/riposte/slack-signing-secret"
# What a deployer replaces in an overlay: the address Slack and browsers reach interact at.
PUBLIC_URL = notify.INTERACT_URL
SLACK_MANIFEST = "deploy/slack/manifest.yaml"
# Ingress gateways a public Knative Service is reached through (networkpolicy.yaml's list).
INGRESS = ("knative-serving", "kourier-system", "istio-system")


def module() -> ModuleType:
    """functions/interact/main.py, imported under a name of its own (it reads nothing then)."""
    name = "riposte_catalogue_interact"
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.util.spec_from_file_location(name, specs.ROOT / SOURCE)
    assert loader is not None and loader.loader is not None
    found = importlib.util.module_from_spec(loader)
    sys.modules[name] = found
    loader.loader.exec_module(found)
    return found


@dataclass(frozen=True)
class Declared:
    """interact as a holder of grants (catalogue/rbac.py renders any such)."""

    name: str = NAME

    def grants(self) -> tuple[Grant, ...]:
        rbac: Any = module().RBAC
        return tuple(rbac)


INTERACT = Declared()


def secrets() -> tuple[tuple[str, str, str, str], ...]:
    """(variable, mount path, Secret, key) of the secret files interact reads."""
    return (
        ("RIPOSTE_APPROVAL_KEY_FILE", undo.APPROVAL_KEY_DIR, undo.APPROVAL_KEY_SECRET, "key"),
        ("RIPOSTE_LINK_SECRET_FILE", LINK_SECRET_DIR, LINK_SECRET, "key"),
        ("RIPOSTE_SLACK_SIGNING_SECRET_FILE", SLACK_SECRET_DIR, SLACK_SECRET, "key"),
    )


def pod_labels() -> dict[str, str]:
    """interact's pods are not `part-of: riposte`, so networkpolicy.yaml (which admits the
    gateways to every riposte pod) does not select them: their own policy is the only one,
    and an SSO overlay can narrow it to the proxy alone (policies add up, never subtract)."""
    return {"app.kubernetes.io/name": NAME, "riposte.io/public": "true"}


def extras() -> list[list[str]]:
    """The NetworkPolicy and the SinkBinding beside the Service (services/interact.yaml)."""
    policy = [
        *comment(
            f"""
            Who may open a connection to interact's pods: Knative's activator and the
            ingress gateways ({", ".join(INGRESS)}), i.e. what Slack and browsers reach
            through the public ingress. With RIPOSTE_SSO_PROXY=true interact trusts the
            identity header {interact_settings.SSO_EMAIL_HEADER.default} (or
            RIPOSTE_SSO_EMAIL_HEADER): then nothing but the proxy may reach it. Run
            oauth2-proxy in the pod in front of interact, or patch `from` in an overlay to
            the proxy's namespace and keep interact off the public ingress (README
            "Approval"). Egress stays open: the apiserver, the broker and Slack's
            response_url.
            """
        ),
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        *site.metadata(f"{NAME}-ingress", NAME, site.NAMESPACE),
        "spec:",
        "  podSelector:",
        f"    matchLabels: {mapping(pod_labels())}",
        "  policyTypes: [Ingress]",
        "  ingress:",
        "    - from:",
        "        - namespaceSelector:",
        "            matchExpressions:",
        "              - key: kubernetes.io/metadata.name",
        "                operator: In",
        f"                values: [{', '.join(INGRESS)}]",
    ]
    binding = [
        *comment(
            """
            K_SINK for interact: Knative injects the broker's address into its pods, where
            riposte.approval.v1 and riposte.undo.v1 go (the Triggers of the acting
            functions and of undo pick them up). Without a broker, set RIPOSTE_APPROVAL_URL
            and RIPOSTE_UNDO_URL instead.
            """
        ),
        "apiVersion: sources.knative.dev/v1",
        "kind: SinkBinding",
        *site.metadata(f"{NAME}-sink", NAME, site.NAMESPACE),
        "spec:",
        "  subject:",
        "    apiVersion: serving.knative.dev/v1",
        "    kind: Service",
        f"    name: {NAME}",
        "  sink:",
        "    ref:",
        "      apiVersion: eventing.knative.dev/v1",
        "      kind: Broker",
        f"      name: {site.BROKER}",
    ]
    return [policy, binding]


def slack_manifest() -> str:
    """deploy/slack/manifest.yaml: the Slack app riposte's messages and buttons belong to."""
    lines = [
        generated(SOURCE, "catalogue/interact.py"),
        "#",
        *comment(
            f"""
            The Slack app for riposte (api.slack.com/apps -> Create New App -> From a
            manifest, paste this file). Replace {PUBLIC_URL} with interact's public address
            (RIPOSTE_INTERACT_URL). Then: install it to your workspace; Incoming Webhooks ->
            the webhook URL goes into notify's slack-webhook-url secret (the webhook must
            belong to this app, or Slack sends the clicks elsewhere); Basic Information ->
            Signing Secret into interact's slack-signing-secret; your workspace's team id
            into RIPOSTE_SLACK_TEAM_ID; the approvers' member ids into RIPOSTE_APPROVERS
            (README "Approval").
            """
        ),
        "display_information:",
        "  name: riposte",
        "  description: Falco responses, approved by humans",
        "features:",
        "  bot_user:",
        "    display_name: riposte",
        "    always_online: false",
        "oauth_config:",
        "  scopes:",
        "    bot:",
        "      - incoming-webhook",
        "settings:",
        "  interactivity:",
        "    is_enabled: true",
        f"    request_url: {PUBLIC_URL}/slack/actions",
        "  org_deploy_enabled: false",
        "  socket_mode_enabled: false",
        "  token_rotation_enabled: false",
    ]
    return document(lines)
