"""Redaction: credential values never leave in logs, replies or notifications, and
nothing else is hidden from the humans reading an alert."""

from shared import alert as alert_model
from shared import redact
from shared.action import AlertSummary

CONFIGMAP_RULE = "Create/Modify Configmap With Private Credentials"


def test_legacy_configmap_output_loses_its_config_object() -> None:
    output = (
        "K8s configmap with private credential (user=alice verb=create configmap=aws-creds "
        'config={"aws_access_key_id":"AKES20LNOA","note":"(x)"})'
    )
    cleaned = redact.output(output, rule=CONFIGMAP_RULE)
    assert "AKES20LNOA" not in cleaned
    assert cleaned.endswith("config=<redacted>")
    assert "configmap=aws-creds" in cleaned


def test_configmap_object_field_is_replaced() -> None:
    fields = {"ka.req.configmap.obj": '{"data":{"password":"hunter2"}}', "ka.verb": "create"}
    assert redact.fields(fields) == {"ka.req.configmap.obj": "<redacted>", "ka.verb": "create"}


def test_ordinary_output_is_untouched() -> None:
    text = "Notice A shell was spawned in a container with an attached terminal"
    assert redact.output(text, rule="Terminal shell in container") == text


def test_a_config_flag_in_a_command_line_hides_nothing() -> None:
    """Command lines are attacker-controlled: `--config=` must not cut the pod, the user
    and the command out of what Slack, Teams and the reply show."""
    text = (
        "08:15:10.123456789: Notice A shell was spawned in a container with an attached terminal "
        "(evt_type=execve user=root process=sh proc.cmdline=sh -c x --config=/tmp/a "
        "k8s.ns.name=shop k8s.pod.name=web container.id=1a2b3c4d5e6f)"
    )
    assert redact.output(text, rule="Terminal shell in container") == text


def test_the_alert_summary_keeps_a_shell_alerts_whole_output() -> None:
    body = {
        "rule": "Terminal shell in container",
        "priority": "Notice",
        "time": "2026-07-14T09:52:30.418215Z",
        "output": "shell (proc.cmdline=sh -c x --config=/tmp/a k8s.pod.name=web)",
        "output_fields": {"k8s.pod.name": "web"},
    }
    summary = AlertSummary.of(alert_model.parse(body))
    assert summary.output.endswith("--config=/tmp/a k8s.pod.name=web)")
