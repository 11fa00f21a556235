"""undo's deployed shape. It is not on the acting runner (its input is riposte's own undo
requests and a schedule, not Falco alerts), so its manifests are stated here, from what
functions/undo/main.py declares (its RBAC grants):

- rbac/undo.yaml: exactly those grants (ClusterRole, Role in riposte, Role in
  riposte-approvals), proven by tests/integration/test_rbac.py;
- config/undo.env, services/undo.yaml: a Service like every function's, with the approval
  key mounted (it verifies interact's signature on every undo request);
- triggers/undo.yaml: a Trigger for `riposte.undo.v1`, and the PingSource sweeping every
  minute (a PingSource can only send `dev.knative.sources.ping`: undo accepts that one
  type without the sender token, since a sweep only does what riposte's own expiry
  annotations say).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from catalogue import site, specs
from catalogue.knative import triggers as knative_triggers
from catalogue.yamltext import comment, document, generated, mapping
from shared.acting.spec import Grant

NAME = "undo"
SOURCE = specs.source(NAME)
SCHEDULE = "* * * * *"  # every minute: a quarantine's TTL is honoured within a minute
APPROVAL_KEY_SECRET = "riposte-approval-key"
APPROVAL_KEY_DIR = "/var/run/secrets/riposte/approval-key"
RESULT_URL = f"http://notify.{site.NAMESPACE}.svc.cluster.local"  # the sweep's results


def module() -> ModuleType:
    """functions/undo/main.py, imported under a name of its own (it reads nothing then)."""
    name = "riposte_catalogue_undo"
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
    """undo as a holder of grants (catalogue/rbac.py renders any such)."""

    name: str = NAME

    def grants(self) -> tuple[Grant, ...]:
        rbac: Any = module().RBAC
        return tuple(rbac)


UNDO = Declared()


def triggers() -> str:
    header = [
        generated(SOURCE, "catalogue/undo.py"),
        "#",
        *comment(
            """
            undo's events: the Undo a human asked for through interact (riposte.undo.v1,
            signed with the approval key, from interact's SinkBinding), and a PingSource
            every minute that makes it sweep expired quarantines, cordons and approvals.
            Retries as on every riposte Trigger; dead letters to notify.
            """
        ),
    ]
    trigger = knative_triggers.trigger(
        f"{NAME}-riposte-undo", NAME, {"type": "riposte.undo.v1"}, dead_letter=True
    )
    ping = [
        "apiVersion: sources.knative.dev/v1",
        "kind: PingSource",
        *site.metadata(f"{NAME}-sweep", NAME, site.NAMESPACE),
        "spec:",
        f'  schedule: "{SCHEDULE}"',
        "  contentType: application/json",
        "  data: '{\"sweep\": true}'",
        "  sink:",
        f"    ref: {mapping({'apiVersion': 'serving.knative.dev/v1', 'kind': 'Service', 'name': NAME})}",
    ]
    return document([*header, *trigger], ping)
