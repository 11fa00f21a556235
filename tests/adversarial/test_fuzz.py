"""Property-based fuzzing of intake and the alert model (hypothesis).

Any bytes under any headers must end in either a RiposteError (a 4xx, or the 204 of
"not for us") or a valid alert and target, never another exception; and a 4xx always
comes before anything could act. Mutated real alerts (from the fixtures) reach deeper
than random bytes: the same property must hold for them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers

from shared import alert as alert_model
from shared import config, errors, intake, targets
from shared.priority import Priority
from tests.helpers import SIDEKICK, cloudevent_headers

SETTINGS = config.load("fuzz", rules=(), min_priority=Priority.DEBUG, environ={"RIPOSTE_TOKEN": "f" * 20})
FIXTURES = [json.loads(p.read_text()) for p in sorted(SIDEKICK.glob("*.json"))]
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/cloudevents+json", "text/plain", "", "application/json; charset=utf-8"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
    max_leaves=20,
)


def walk(headers: Headers, raw: bytes) -> None:
    """Intake -> alert -> both target kinds; only our own errors may escape."""
    try:
        delivery = intake.read(headers, raw, SETTINGS)
        alert = alert_model.parse(delivery.body)
    except errors.RiposteError as exc:
        assert 400 <= exc.status < 500
        return
    for target_of in (targets.configmap, targets.pod):
        try:
            target = target_of(alert)
        except errors.InvalidTarget as exc:
            assert exc.status == 422
        else:
            assert target.name and target.namespace
    assert alert.identity


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=2048), content_type=CONTENT_TYPES, binary_mode=st.booleans())
def test_any_bytes_end_in_a_4xx_or_a_valid_alert(raw: bytes, content_type: str, binary_mode: bool) -> None:
    headers = Headers({"Content-Type": content_type, "Authorization": "Bearer " + "f" * 20})
    if binary_mode:
        headers.update(
            {"Ce-Specversion": "1.0", "Ce-Id": "1", "Ce-Source": "s", "Ce-Type": "falco.rule.output.v1"}
        )
    walk(headers, raw)


@settings(max_examples=600, deadline=None)
@given(
    base=st.sampled_from(FIXTURES),
    top=st.dictionaries(
        st.sampled_from(["rule", "priority", "time", "output", "output_fields", "uuid", "source", "tags"]),
        JSON_VALUES,
        max_size=3,
    ),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "k8s.pod.name",
                "k8s.ns.name",
                "ka.target.name",
                "ka.target.namespace",
                "ka.resp.name",
                "ka.req.configmap.name",
                "ka.target.resource",
            ]
        ),
        JSON_VALUES,
        max_size=3,
    ),
    as_cloudevent=st.booleans(),
)
def test_mutated_real_alerts_end_in_a_4xx_or_a_valid_alert(
    base: dict[str, Any], top: dict[str, Any], fields: dict[str, Any], as_cloudevent: bool
) -> None:
    body = {**base, **top}
    if isinstance(body.get("output_fields"), dict):
        body["output_fields"] = {**body["output_fields"], **fields}
    raw = json.dumps(body).encode()
    headers = Headers({"Content-Type": "application/json", "Authorization": "Bearer " + "f" * 20})
    if as_cloudevent:
        headers.update({k: v for k, v in cloudevent_headers(base).items() if k.startswith("Ce-")})
    walk(headers, raw)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_any_time_text_parses_or_is_not_an_alert(text: str) -> None:
    try:
        value = alert_model.parse_time(text)
    except errors.NotAnAlert:
        return
    assert isinstance(value, int)
