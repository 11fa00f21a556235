"""The seed scenario end to end, as humans see it: delete-configmap acts on the real
apiserver as its own ServiceAccount and POSTs its result to notify (RIPOSTE_RESULT_URL,
the deployment without a broker); notify, as its own ServiceAccount, tells a webhook sink.
Both carry the same sender token, as deployed. The alert itself also reaches notify (a
broker fans it out), and the reply event a broker would route is delivered too: the sink
holds exactly one message per kind, naming the alert, and never the credential value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kubernetes import client

from tests.conftest import Serve
from tests.helpers import configmap_alert, encode
from tests.integration.fakesinks import FakeSink

TOKEN = "riposte-e2e-token-0123456789"
CREDENTIAL = "AKES20LNOA"


@pytest.fixture
def sink() -> Iterator[FakeSink]:
    made = FakeSink("webhook")
    yield made
    made.close()


def leaky_seed_alert(namespace: str) -> dict[str, Any]:
    """The seed alert with the object in its fields and a legacy `config=` output."""
    raw = configmap_alert(namespace, "aws-creds")
    raw["output_fields"]["ka.req.configmap.obj"] = json.dumps({"data": {"aws_access_key_id": CREDENTIAL}})
    raw["output"] += f' config={{"aws_access_key_id":"{CREDENTIAL}"}}'
    return raw


def test_the_seed_ends_as_one_alert_message_and_one_result_message(
    core: client.CoreV1Api, serve: Serve, http: requests.Session, namespace: str, sink: FakeSink
) -> None:
    notify = serve("notify", RIPOSTE_WEBHOOK_URL=sink.url, RIPOSTE_TOKEN=TOKEN)
    delete = serve("delete-configmap", RIPOSTE_RESULT_URL=notify.url, RIPOSTE_TOKEN=TOKEN)
    source = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "aws-creds"}, "data": {"aws_access_key_id": CREDENTIAL}}
    )
    raw = leaky_seed_alert(namespace)
    bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    reply = http.post(delete.url, data=encode(raw), headers=bearer)
    assert reply.status_code == 200, reply.text
    assert reply.json()["outcome"] == "acted"
    # The broker fans the alert out to notify too, and routes the reply event to it.
    assert http.post(notify.url, data=encode(raw), headers=bearer).status_code == 204
    routed = {key: value for key, value in reply.headers.items() if key.lower().startswith("ce-")}
    routed["Content-Type"] = "application/json"
    assert http.post(notify.url, data=reply.content, headers=routed).status_code == 204

    messages = [entry.json() for entry in sink.accepted()]
    assert [message["kind"] for message in messages] == ["result", "alert"], (
        "the broker's copy was a duplicate"
    )
    result, alerted = messages
    assert source.metadata is not None
    copy = f"riposte/riposte-cm-{source.metadata.uid}"
    assert result["title"] == f"riposte delete-configmap acted on ConfigMap {namespace}/aws-creds"
    assert result["text"].startswith(f"Deleted; copy kept in {copy}.")
    assert raw["uuid"] in result["text"]
    assert result["result"]["outcome"] == "acted"
    assert result["result"]["copy"] == copy
    assert result["result"]["id"] == reply.headers["ce-id"]
    assert result["alert"]["uuid"] == alerted["alert"]["uuid"] == raw["uuid"]
    assert alerted["alert"]["output_fields"]["ka.req.configmap.obj"] == "<redacted>"

    for entry in sink.received:
        assert CREDENTIAL not in entry.body.decode()
        assert TOKEN not in entry.body.decode()
    for process in (notify, delete):
        assert CREDENTIAL not in process.output()
        assert sink.secret not in process.output()
        assert TOKEN not in process.output()
