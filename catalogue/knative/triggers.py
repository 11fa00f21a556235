"""triggers/<name>.yaml: how events reach each function through the broker.

One Trigger per (acting function, default rule), dead-lettering to notify; notify's one
per priority it reports and one for the results. The reasons, once per file, in its
header.
"""

from __future__ import annotations

import re
from typing import Any

from catalogue import notify, site, specs
from catalogue.yamltext import comment, document, generated, mapping, scalar
from shared.acting.spec import Spec

NAME_MAX = 63  # Knative puts a Trigger's name into label values
SERVICE_REF = {"apiVersion": "serving.knative.dev/v1", "kind": "Service"}

FILTERS = """
    `spec.filter.attributes` matches one exact, case-sensitive value per attribute, extensions
    included: `rule` and `priority` are extensions Falcosidekick's cloudevents output sets
    from the alert. (The `filters` SQL/prefix dialects would need a recent MT or Kafka
    broker; exact matches work on every broker.)
    """
DELIVERY = f"""
    Delivery, the same on every riposte Trigger:

    - retry {site.DELIVERY["retry"]}, exponential from {site.DELIVERY["backoffDelay"]}:
    Knative waits backoffDelay * 2^n before retry n, so 2, 4, 8, ... 256 s: about 8.5
    minutes of waiting, plus up to 8 attempts of at most RIPOSTE_DEADLINE_SECONDS
    ({site.DEADLINE_SECONDS} s) each. A function whose apiserver is down answers 503 after
    its deadline; this schedule outlasts an apiserver restart (tens of seconds) and a
    single-server k3s upgrade (a few minutes), and retries often early on, when a quick
    restart is most likely to be over.
    - Knative retries 5xx, 404, 408, 409 and 429; riposte never uses those for a permanent
    refusal, so a retried event is one worth retrying. The Retry-After header of riposte's
    503 is ignored unless the alpha feature `delivery-retryafter` is on and `retryAfterMax`
    is set: the schedule above does not depend on it.
    - format: binary: the function reads rule and priority from the body in either mode;
    binary keeps the body exactly what Falcosidekick sent.
    """
DEAD_LETTERS = """
    - Dead letters go to notify, riposte's one way to reach a human: an alert that could not
    be acted on after all retries (or was refused with a 4xx, e.g. 401 for a token
    mismatch) arrives there with Knative's knativeerrordest, knativeerrorcode and
    knativeerrordata extensions. notify's own Triggers have no dead-letter sink (see
    triggers/notify.yaml).
    """


APPROVAL_EVENT_TYPE = "riposte.approval.v1"  # shared/interact/decisions.py sends it
APPROVALS = """
    Approvals for {name} (README "Approval"): interact sends riposte.approval.v1 to the
    broker (its SinkBinding) with the extension `function` naming whose approval it is, so
    only {name} receives its own. It acts only when RIPOSTE_APPROVAL=required stored the
    record and a listed approver signed it.
    """


def trigger_name(function: str, rule: str) -> str:
    """`<function>-<rule in lower-case words>`; over 63 characters, the rule's leading words
    (its verbs, mostly) go first: `delete-configmap-modify-configmap-with-private-credentials`."""
    words = re.findall(r"[a-z0-9]+", rule.lower())
    while len(words) > 1 and len("-".join([function, *words])) > NAME_MAX:
        words.pop(0)
    name = "-".join([function, *words])
    if len(name) > NAME_MAX or not words:
        raise ValueError(f"{function}: no Trigger name of at most {NAME_MAX} characters for rule {rule!r}")
    return name


def trigger(name: str, function: str, attributes: dict[str, str], *, dead_letter: bool) -> list[str]:
    delivery = [f"    {key}: {scalar(value)}" for key, value in site.DELIVERY.items()]
    if dead_letter:
        delivery += ["    deadLetterSink:", f"      ref: {mapping({**SERVICE_REF, 'name': notify.NAME})}"]
    return [
        "apiVersion: eventing.knative.dev/v1",
        "kind: Trigger",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {site.NAMESPACE}",
        f"  labels: {mapping(site.labels(function))}",
        "spec:",
        f"  broker: {site.BROKER}",
        "  filter:",
        "    attributes:",
        *(f"      {key}: {scalar(value)}" for key, value in attributes.items()),
        "  subscriber:",
        f"    ref: {mapping({**SERVICE_REF, 'name': function})}",
        "  delivery:",
        *delivery,
    ]


def acting(spec: Spec[Any]) -> str | None:
    """One Trigger per default rule; None for a function with no default rules."""
    if not spec.rules:
        return None
    names = [trigger_name(spec.name, rule) for rule in spec.rules]
    if len(set(names)) != len(names):
        raise ValueError(f"{spec.name}: two rules give one Trigger name: {names}")
    header = [
        generated(specs.source(spec.name)),
        "#",
        *comment(
            f"""
            Alerts for {spec.name}: one Trigger per Falco rule it acts on, the rules of its
            spec (RIPOSTE_RULES in config/{spec.name}.env comes from the same list). A
            Trigger is named `<function>-<the rule in lower-case words>`, the rule's first
            words dropped while that is longer than {NAME_MAX} characters.
            """,
            FILTERS,
            DELIVERY.rstrip() + DEAD_LETTERS,
        ),
    ]
    docs = [
        trigger(name, spec.name, {"type": site.FALCO_EVENT_TYPE, "rule": rule}, dead_letter=True)
        for name, rule in zip(names, spec.rules, strict=True)
    ]
    approvals = [
        *comment(APPROVALS.format(name=spec.name)),
        *trigger(
            f"{spec.name}-riposte-approval",
            spec.name,
            {"type": APPROVAL_EVENT_TYPE, "function": spec.name},
            dead_letter=True,
        ),
    ]
    return document([*header, *docs[0]], *docs[1:], approvals)


def for_notify() -> str:
    header = [
        generated(notify.SOURCE, "that"),
        "#",
        *comment(
            f"""
            Events for notify: one Trigger per Falco priority it reports
            ({notify.MIN_PRIORITY.label} and above, RIPOSTE_MIN_PRIORITY in config/notify.env),
            because an attribute filter matches one exact value; and one for the acting
            functions' results ({site.RESULT_EVENT_TYPE}), which they return to the broker as
            their reply. notify answers 204 with no body, so its deliveries never put an event
            back on the broker (no loops).

            Retries as on every riposte Trigger, but no dead-letter sink: the dead-letter sink
            of the other Triggers is notify itself, and a notify that cannot reach its sinks
            has nobody left to tell. Such a failure shows in notify's log and in the broker
            filter's log; without a sink Knative drops the event.
            """,
            FILTERS,
            DELIVERY,
        ),
    ]
    by_priority = [
        trigger(
            f"{notify.NAME}-{priority.label.lower()}",
            notify.NAME,
            {"type": site.FALCO_EVENT_TYPE, "priority": priority.label},
            dead_letter=False,
        )
        for priority in notify.priorities()
    ]
    results = trigger(
        f"{notify.NAME}-riposte-action", notify.NAME, {"type": site.RESULT_EVENT_TYPE}, dead_letter=False
    )
    return document([*header, *by_priority[0]], *by_priority[1:], results)
