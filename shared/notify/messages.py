"""What notify tells humans about an alert or a result, independent of the sink. Pure.

A Message says what happened (rule, output), where (pod or object, namespace, host), why
(rule, priority) and, for a result, what riposte did and how it ended, always naming the
alert (uuid, else riposte's identity for it) so an alert's message and its result's
message correlate. Credential values never reach a Message: the output goes through
`redact.output`, output fields through `redact.fields`, and the facts are an allow-list.
Sink formats (shared/formats.py) only lay a Message out.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared import action, redact
from shared.action import ActionResult, AlertSummary, Outcome
from shared.alert import Alert
from shared.approval import links, undo
from shared.priority import Priority


class Kind(enum.StrEnum):
    """What a message is about."""

    ALERT = "alert"
    RESULT = "result"
    DEAD_LETTER = "dead-letter"  # an alert riposte could not act on: a human must


class Tone(enum.IntEnum):
    """How loudly a sink should present a message (colour, icon)."""

    INFO = 0
    GOOD = 1
    WARNING = 2
    DANGER = 3


@dataclass(frozen=True)
class Fact:
    """One labelled value (a Slack field, a Teams fact)."""

    label: str
    value: str


class Choice(enum.StrEnum):
    """What a human can do from a message (Slack action_id `riposte.<choice>`)."""

    APPROVE = "approve"
    REJECT = "reject"
    UNDO = "undo"


@dataclass(frozen=True)
class Action:
    """One button or link: Slack posts `token` back to interact (a button's value); the
    other sinks open `url`, interact's review page for that token."""

    choice: Choice
    label: str
    token: str
    url: str | None  # None without RIPOSTE_INTERACT_URL: Slack buttons only


@dataclass(frozen=True)
class Links:
    """What notify needs to offer decisions: interact's address and the link keys."""

    secret: list[str]
    interact_url: str | None

    def action(
        self, choice: Choice, label: str, purpose: links.Purpose, payload: dict[str, object]
    ) -> Action:
        token = links.dumps(self.secret, purpose, payload)
        url = f"{self.interact_url.rstrip('/')}/review/{token}" if self.interact_url else None
        return Action(choice, label, token, url)


@dataclass(frozen=True)
class Message:
    """One notification, ready for any sink."""

    kind: Kind
    key: str  # de-duplication key: "alert:<identity>" or "result:<CloudEvent id>"
    title: str
    summary: str
    facts: tuple[Fact, ...]
    output: str  # Falco's output line, redacted
    alert_reference: str  # the alert's uuid, else its identity
    tone: Tone
    alert: Mapping[str, object]  # the alert as JSON, redacted (generic webhook)
    result: Mapping[str, object] | None  # the result as JSON (generic webhook)
    actions: tuple[Action, ...] = ()  # approve / reject, or undo (README "Approval")


# What each outcome means, said of the function: "<function> <phrase> <Kind> <ns>/<name>".
OUTCOME_PHRASES = {
    Outcome.ACTED: "acted on",
    Outcome.ALREADY_DONE: "had already acted on",
    Outcome.DRY_RUN: "would act on (dry run)",
    Outcome.PARTIAL: "partly acted on",
    Outcome.REFUSED: "refused to act on",
    Outcome.FAILED: "failed to act on",
    Outcome.PENDING_APPROVAL: "asks a human before acting on",
}
OUTCOME_TONES = {
    Outcome.ACTED: Tone.GOOD,
    Outcome.ALREADY_DONE: Tone.GOOD,
    Outcome.DRY_RUN: Tone.INFO,
    Outcome.PARTIAL: Tone.WARNING,
    Outcome.REFUSED: Tone.DANGER,  # riposte did not act: a human has to
    Outcome.FAILED: Tone.DANGER,
    Outcome.PENDING_APPROVAL: Tone.WARNING,  # a human has to decide
}


def for_alert(alert: Alert) -> Message:
    """The message for a Falco alert."""
    reference = alert.uuid or alert.identity
    where = _where(alert)
    host = f" on host {alert.hostname}" if alert.hostname else ""
    facts = [
        Fact("Rule", alert.rule),
        Fact("Priority", alert.priority.label),
        *where,
        *_optional_facts(
            ("User", _field(alert, "ka.user.name", "user.name")),
            ("Verb", _field(alert, "ka.verb")),
            ("Host", alert.hostname),
            ("Source", alert.source),
            ("Time", alert.time),
        ),
        Fact("Alert", reference),
    ]
    place = f" for {where[0].label.lower()} {where[0].value}" if where else ""
    return Message(
        kind=Kind.ALERT,
        key=f"alert:{alert.identity}",
        title=f"Falco {alert.priority.label}: {alert.rule}",
        summary=f'Falco rule "{alert.rule}" ({alert.priority.label}) fired{place}{host}.',
        facts=tuple(facts),
        output=redact.output(alert.output, rule=alert.rule),
        alert_reference=reference,
        tone=_alert_tone(alert.priority),
        alert={
            **action.alert_json(AlertSummary.of(alert)),
            "output_fields": redact.fields(alert.fields),
            "tags": list(alert.tags),
        },
        result=None,
    )


def for_dead_letter(alert: Alert, destination: str, code: str | None) -> Message:
    """The message for an alert the broker gave up delivering to an acting function.

    Knative's dead-letter sink receives the original event with the extensions
    `knativeerrordest` (the subscriber) and `knativeerrorcode` (its last HTTP status).
    Nothing was done about the alert, so this message is never folded into the alert's
    own: its key is distinct, and it ignores the minimum priority.
    """
    function = (urlsplit(destination).hostname or destination[:100]).split(".", 1)[0]
    status = f"HTTP {code[:10]}" if code else "no answer"
    base = for_alert(alert)
    return dataclasses.replace(
        base,
        kind=Kind.DEAD_LETTER,
        key=f"dead-letter:{function}:{alert.identity}",
        title=f"riposte could not act: {alert.rule}",
        summary=(
            f'{function} never handled Falco rule "{alert.rule}" ({alert.priority.label}): '
            f"the broker gave up after its retries ({status}). Nothing was done; a human has to act."
        ),
        facts=(Fact("Function", function), Fact("Last answer", status), *base.facts),
        tone=Tone.DANGER,
    )


def actions_for(result: ActionResult, offer: Links | None) -> tuple[Action, ...]:
    """Approve and Reject for a pending approval; Undo for an action riposte can reverse."""
    if offer is None:
        return ()
    approval = result.details.get("approval")
    if result.outcome is Outcome.PENDING_APPROVAL and isinstance(approval, str):
        payload: dict[str, object] = {"id": approval}
        review = offer.action(Choice.APPROVE, "Approve", links.Purpose.DECIDE, payload)
        return (review, dataclasses.replace(review, choice=Choice.REJECT, label="Reject"))
    uid = result.details.get("uid")
    if (
        result.outcome in (Outcome.ACTED, Outcome.PARTIAL)
        and result.function in undo.REVERSIBLE
        and isinstance(uid, str)
    ):
        request = undo.UndoRequest(result.function, result.target, uid, result.alert.identity)
        return (offer.action(Choice.UNDO, "Undo", links.Purpose.UNDO, request.payload()),)
    return ()


def for_result(result: ActionResult, offer: Links | None = None) -> Message:
    """The message for a `riposte.action.v1` result: what riposte did, and how it ended."""
    target, alert = result.target, result.alert
    what = (
        f"{target.kind} {target.namespace}/{target.name}"
        if target.namespace
        else f"{target.kind} {target.name}"
    )
    reason = result.reason or str(result.outcome)
    facts = [
        Fact("Outcome", str(result.outcome)),
        Fact("Target", what),
        Fact("Action", result.action),
        Fact("Rule", alert.rule),
        Fact("Priority", alert.priority.label),
        Fact("Alert", alert.reference),
        *_detail_facts(result.details),
        *_optional_facts(("Host", alert.hostname)),
    ]
    if result.dry_run:
        facts.append(Fact("Dry run", "yes: nothing was changed"))
    if result.duration_ms is not None:
        facts.append(Fact("Duration", f"{result.duration_ms} ms"))
    return Message(
        kind=Kind.RESULT,
        key=f"result:{result.id}",
        title=f"riposte {result.function} {OUTCOME_PHRASES[result.outcome]} {what}",
        summary=(
            f"{reason[:1].upper()}{reason[1:]}. In response to Falco rule "
            f'"{alert.rule}" ({alert.priority.label}), alert {alert.reference}.'
        ),
        facts=tuple(facts),
        output=alert.output,
        alert_reference=alert.reference,
        tone=OUTCOME_TONES[result.outcome],
        alert=action.alert_json(alert),
        result=_result_json(result),
        actions=actions_for(result, offer),
    )


def _result_json(result: ActionResult) -> dict[str, object]:
    """The result part of the generic webhook's JSON: what riposte did, then its details."""
    target = result.target
    document: dict[str, object] = {
        "id": result.id,
        "function": result.function,
        "action": result.action,
        "target": {"kind": target.kind, "namespace": target.namespace, "name": target.name},
        "outcome": str(result.outcome),
        "reason": result.reason,
        "dry_run": result.dry_run,
        "duration_ms": result.duration_ms,
    }
    for key, value in result.details.items():
        document.setdefault(key, value)  # a detail never overrides what riposte decided
    return document


def _where(alert: Alert) -> list[Fact]:
    """The pod (syscall rules) or the object (k8s_audit rules) the alert is about."""
    facts: list[Fact] = []
    pod = _field(alert, "k8s.pod.name")
    if pod is not None:
        namespace = _field(alert, "k8s.ns.name")
        facts.append(Fact("Pod", f"{namespace}/{pod}" if namespace else pod))
        container = _field(alert, "container.name")
        image = _field(alert, "container.image.repository")
        tag = _field(alert, "container.image.tag")
        if container or image:
            picture = f"{image}:{tag}" if image and tag else image
            facts.append(
                Fact("Container", " ".join(filter(None, (container, f"({picture})" if picture else None))))
            )
        return facts
    name = _field(alert, "ka.target.name", "ka.req.configmap.name", "ka.resp.name")
    if name is not None:
        namespace = _field(alert, "ka.target.namespace")
        resource = _field(alert, "ka.target.resource")
        path = f"{namespace}/{name}" if namespace else name
        facts.append(Fact("Object", f"{resource} {path}" if resource else path))
    return facts


def _field(alert: Alert, *names: str) -> str | None:
    """The first present output field among `names`, as text (lists joined)."""
    for name in names:
        value = alert.value(name)
        if value is None or name in redact.SECRET_FIELDS:
            continue
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return str(value)
    return None


def _optional_facts(*pairs: tuple[str, str | None]) -> list[Fact]:
    return [Fact(label, value) for label, value in pairs if value]


def _detail_facts(details: Mapping[str, object]) -> list[Fact]:
    """An action's own details (`copy`, `credential_keys`, …) shown when they are plain values.

    Nested objects stay in the generic webhook's JSON only: a chat line cannot show them well.
    """
    facts = []
    for key, value in details.items():
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, str | int | float):
            text = str(value)
        elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            text = ", ".join(str(item) for item in value) or "none"
        else:
            continue
        facts.append(Fact(key.replace("_", " ").capitalize(), text))
    return facts


def _alert_tone(priority: Priority) -> Tone:
    if priority >= Priority.ERROR:
        return Tone.DANGER
    if priority >= Priority.WARNING:
        return Tone.WARNING
    return Tone.INFO
