"""notify's deployed shape, stated here: it is not on the acting runner, so it has no spec
to read, and its main.py reads the environment when imported.

What is restated is checked (tests/deploy/test_manifests.py imports notify's main.py and
compares its minimum priority); the sinks come from notify's own table
(shared/notify/sinks.py), so a new sink reaches the manifests by itself.
"""

from __future__ import annotations

from shared.notify import sinks
from shared.priority import Priority

NAME = "notify"
SOURCE = "catalogue/notify.py"  # where its manifests are rendered from
MIN_PRIORITY = Priority.WARNING  # functions/notify/main.py: config.load(..., min_priority=...)
SINKS_SECRET = "riposte-notify-sinks"
SINKS_DIR = "/var/run/secrets/riposte/sinks"
# Decisions in messages (README "Approval"): the keys Slack buttons and links are signed
# with, shared with interact (catalogue/interact.py mounts the same Secret), and its address.
LINK_SECRET = "riposte-link-secret"
INTERACT_URL = "https://riposte-interact.example.com"
ANSWERS = "Falco alerts from `Warning` up, and every `riposte.action.v1` result"
SUMMARY = "tells the humans: Slack (Block Kit), Microsoft Teams (Adaptive Card), any JSON webhook"


def priorities() -> tuple[Priority, ...]:
    """The priorities notify reports, one Trigger each (an attribute filter matches one value)."""
    return tuple(p for p in Priority if p >= MIN_PRIORITY)


def sink_files() -> tuple[tuple[str, str], ...]:
    """(variable naming the URL file, key in the sinks Secret), per sink:
    RIPOSTE_SLACK_WEBHOOK_URL -> (RIPOSTE_SLACK_WEBHOOK_URL_FILE, slack-webhook-url)."""
    return tuple(
        (f"{variable}_FILE", variable.removeprefix("RIPOSTE_").lower().replace("_", "-"))
        for _, variable, _ in sinks.SINK_TYPES
    )
