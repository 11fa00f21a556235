"""notify: tell the humans what Falco saw and what riposte did about it.

Answers:  Falco alerts of any rule (RIPOSTE_RULES) at or above Warning
          (RIPOSTE_MIN_PRIORITY), unless RIPOSTE_NOTIFY_ALERTS=false; every
          `riposte.action.v1` result event (through the broker or RIPOSTE_RESULT_URL);
          every alert Knative dead-lettered (`knativeerrordest`): riposte could not act.
Reads:    alerts: rule, priority, output (redacted), hostname, uuid, time, source and
          output_fields k8s.pod.name, k8s.ns.name, container.name,
          container.image.repository, container.image.tag, ka.target.name,
          ka.target.namespace, ka.target.resource, ka.req.configmap.name, ka.resp.name,
          ka.user.name, user.name, ka.verb (ka.req.configmap.obj only redacted);
          results: the CloudEvent id and its data (shared/action.py).
Verbs:    none: no Kubernetes API access (deploy/knative/rbac/notify.yaml mounts no token).
Sends:    Slack, Teams, generic JSON webhook (RIPOSTE_{SLACK,TEAMS}_WEBHOOK_URL,
          RIPOSTE_WEBHOOK_URL), and results only to Falcosidekick (RIPOSTE_FALCOSIDEKICK_URL,
          as Falco payloads of `source: riposte`, which nothing of riposte acts on or
          announces again). An `already-done` result (a redelivery's) sends nothing: the
          humans heard of the action once. Answers 204, never a reply event: no broker loops.
"""

from __future__ import annotations

import flask
import functions_framework

from shared import action, config, endpoint, policy, serving
from shared import alert as alert_model
from shared.intake import Delivery
from shared.notify import messages, sent, sinks
from shared.priority import Priority

# No rules: every rule (policy.matches); RIPOSTE_RULES narrows alerts, never results.
SETTINGS = config.load("notify", rules=(), min_priority=Priority.WARNING)
NOTIFY = sinks.load(SETTINGS.function)
SENT = sent.SentRecord()
# Extensions Knative adds to an event it dead-letters (the acting functions' Triggers
# send their dead letters here, deploy/knative/triggers).
ERROR_DESTINATION, ERROR_CODE = "knativeerrordest", "knativeerrorcode"
if flask.has_app_context():  # served (not imported by a test): before the first request
    serving.settle()


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return endpoint.respond(request, SETTINGS, notify)


def notify(delivery: Delivery, call: endpoint.Call) -> endpoint.Handled | None:
    if delivery.event_type == action.EVENT_TYPE:
        result = action.parse(delivery)  # 400: not a result
        call.aimed_at(result.target)
        if result.outcome is action.Outcome.ALREADY_DONE:
            # A redelivery's answer: the humans were told when it was done (one message
            # per alert, one per action). Still logged, and still the acting reply.
            return endpoint.Handled("already done: nothing new to tell", {"result": result.id})
        message = messages.for_result(result, NOTIFY.links)
    else:
        alert = call.alert_from(delivery)  # 400: not an alert
        if dead_letter := undelivered(delivery, alert):  # Knative gave up: always told
            message = messages.for_dead_letter(alert, dead_letter, delivery.attributes.get(ERROR_CODE))
        elif not NOTIFY.alerts or not policy.matches(SETTINGS, alert, delivery.event_type):
            return None  # 204: no message for this alert
        else:
            message = messages.for_alert(alert)
    if not NOTIFY.sinks:
        return endpoint.Handled("no sink configured", {"message": message.key, "sinks": []})
    report = sinks.send(NOTIFY.sinks, message, call.deadline, SENT)  # 503: a sink stayed down
    call.warnings.extend(report.problems.values())  # refused for good: redelivery cannot help
    return endpoint.Handled(
        "notified",
        {
            "message": message.key,
            "sinks": report.names(sinks.Answer.SENT),
            "already_sent": report.names(sinks.Answer.ALREADY_SENT),
            "rejected": report.names(sinks.Answer.REJECTED),
        },
    )


def undelivered(delivery: Delivery, alert: alert_model.Alert) -> str | None:
    """The subscriber a dead-lettered Falco alert never reached, or None."""
    destination = delivery.attributes.get(ERROR_DESTINATION)
    if (
        destination
        and delivery.event_type == policy.FALCO_EVENT_TYPE
        and not alert.is_test
        and alert.source != policy.RIPOSTE_SOURCE
    ):
        return destination
    return None
