"""notify's Falcosidekick sink and the loop it closes, over real HTTP (DESIGN §14).

Every result riposte sends passes the checks of a stand-in that applies Falcosidekick's
and Falcosidekick-UI's rules (tests/integration/fakesidekick.py). The whole loop runs:
the seed alert → delete-configmap acts → its result reaches notify → notify tells the
humans once and hands Falcosidekick a `source: riposte` payload → Falcosidekick forwards
it, as its cloudevents output would, to notify and to every acting function → none of
them acts or sends anything again. A redelivery of the seed answers `already-done` and
sends nobody anything new.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from kubernetes import client

from tests.conftest import Serve
from tests.helpers import cloudevent_headers, configmap_alert, encode
from tests.integration.fakesidekick import FakeSidekick
from tests.integration.fakesinks import FakeSink

TOKEN = "riposte-loop-token-0123456789"


@pytest.fixture
def sidekick() -> Iterator[FakeSidekick]:
    made = FakeSidekick(token=TOKEN)
    yield made
    made.stop()


@pytest.fixture
def webhook() -> Iterator[FakeSink]:
    sink = FakeSink("webhook")
    yield sink
    sink.close()


def wait_for(condition: object, what: str, seconds: float = 30.0) -> None:
    """Poll until `condition()` holds: the stand-in forwards after answering."""
    assert callable(condition)
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_results_go_to_falcosidekick_once_and_come_back_to_nobody(
    serve: Serve,
    core: client.CoreV1Api,
    http: requests.Session,
    namespace: str,
    sidekick: FakeSidekick,
    webhook: FakeSink,
) -> None:
    notify = serve(
        "notify",
        RIPOSTE_TOKEN=TOKEN,
        RIPOSTE_WEBHOOK_URL=webhook.url,
        RIPOSTE_FALCOSIDEKICK_URL=sidekick.url,
    )
    acting = [
        serve("delete-configmap", RIPOSTE_TOKEN=TOKEN, RIPOSTE_RESULT_URL=notify.url),
        serve("isolate-pod", RIPOSTE_TOKEN=TOKEN, RIPOSTE_RESULT_URL=notify.url),
    ]
    sidekick.outputs = [notify.url, *(fn.url for fn in acting)]
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"password": "p"}}
    )
    seed = configmap_alert(namespace, "aws-creds")
    headers = {**cloudevent_headers(seed), "Ce-Authtoken": TOKEN}

    assert http.post(notify.url, data=encode(seed), headers=headers).status_code == 204  # the alert
    reply = http.post(acting[0].url, data=encode(seed), headers=headers)
    assert reply.json()["outcome"] == "acted"
    wait_for(lambda: len(sidekick.forwarded) == 3, "the payload forwarded to notify and both functions")

    assert sidekick.rejected == []
    [payload] = sidekick.accepted
    assert payload["source"] == "riposte" and payload["rule"] == "riposte delete-configmap acted"
    assert payload["priority"] == "Notice" and payload["tags"] == ["acted", "delete-configmap", "riposte"]
    assert payload["output_fields"]["riposte.target"] == f"{namespace}/ConfigMap/aws-creds"
    assert payload["output_fields"]["riposte.alert.uuid"] == seed["uuid"]
    assert [f.status for f in sidekick.forwarded] == [204, 204, 204], "nothing acts on riposte's results"
    kinds = [entry.json()["kind"] for entry in webhook.accepted()]
    assert kinds == ["alert", "result"], "one message per alert, one per action"

    again = http.post(acting[0].url, data=encode(seed), headers={**headers, "Ce-Id": "redelivery"})
    assert again.json()["outcome"] == "already-done"
    time.sleep(0.5)  # anything it sent would have arrived by now; nothing may
    assert len(sidekick.accepted) == 1 and len(webhook.accepted()) == 2
    for fn in (notify, *acting):
        assert "Traceback" not in fn.output()
