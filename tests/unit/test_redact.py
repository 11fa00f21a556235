"""Redaction: credential values never leave in logs, replies or notifications."""

from shared import redact


def test_legacy_configmap_output_loses_its_config_object():
    output = (
        "K8s configmap with private credential (user=alice verb=create configmap=aws-creds "
        'config={"aws_access_key_id":"AKES20LNOA","note":"(x)"})'
    )
    cleaned = redact.output(output)
    assert "AKES20LNOA" not in cleaned
    assert cleaned.endswith("config=<redacted>")
    assert "configmap=aws-creds" in cleaned


def test_configmap_object_field_is_replaced():
    fields = {"ka.req.configmap.obj": '{"data":{"password":"hunter2"}}', "ka.verb": "create"}
    assert redact.fields(fields) == {"ka.req.configmap.obj": "<redacted>", "ka.verb": "create"}


def test_ordinary_output_is_untouched():
    text = "Notice A shell was spawned in a container with an attached terminal"
    assert redact.output(text) == text
