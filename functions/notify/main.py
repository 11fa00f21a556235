"""notify: tell the humans what Falco saw and what riposte did about it.

Answers:  Falco alerts of any rule (RIPOSTE_RULES) at or above Warning
          (RIPOSTE_MIN_PRIORITY), unless RIPOSTE_NOTIFY_ALERTS=false; every
          `riposte.action.v1` result event (through the broker or RIPOSTE_RESULT_URL).
Reads:    alerts: rule, priority, output (redacted), hostname, uuid, time, source and
          output_fields k8s.pod.name, k8s.ns.name, container.name,
          container.image.repository, container.image.tag, ka.target.name,
          ka.target.namespace, ka.target.resource, ka.req.configmap.name, ka.resp.name,
          ka.user.name, user.name, ka.verb (ka.req.configmap.obj only redacted);
          results: the CloudEvent id and its data (shared/results.py).
Verbs:    none: no Kubernetes API access (deploy/knative/rbac/notify.yaml mounts no token).
Sends:    Slack, Teams, generic JSON webhook (RIPOSTE_{SLACK,TEAMS}_WEBHOOK_URL,
          RIPOSTE_WEBHOOK_URL). Answers 204, never a reply event: no broker loops.
"""

from __future__ import annotations

import flask
import functions_framework

from shared import config, endpoint, messages, notifier, policy, results, sent
from shared.intake import Delivery
from shared.priority import Priority

# No rules: every rule (policy.matches); RIPOSTE_RULES narrows alerts, never results.
SETTINGS = config.load("notify", rules=(), min_priority=Priority.WARNING)
NOTIFY = notifier.load(SETTINGS.function)
SENT = sent.SentRecord()


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return endpoint.respond(request, SETTINGS, notify)


def notify(delivery: Delivery, call: endpoint.Call) -> endpoint.Handled | None:
    if delivery.event_type == results.EVENT_TYPE:
        result = results.parse(delivery)  # 400: not a result
        call.aimed_at(result.target)
        message = messages.for_result(result)
    else:
        alert = call.alert_from(delivery)  # 400: not an alert
        if not NOTIFY.alerts or not policy.matches(SETTINGS, alert, delivery.event_type):
            return None  # 204: no message for this alert
        message = messages.for_alert(alert)
    if not NOTIFY.sinks:
        return endpoint.Handled("no sink configured", {"message": message.key, "sinks": []})
    report = notifier.send(NOTIFY.sinks, message, call.deadline, SENT)  # 503: a sink stayed down
    call.warnings.extend(report.problems.values())  # refused for good: redelivery cannot help
    return endpoint.Handled(
        "notified",
        {
            "message": message.key,
            "sinks": report.names(notifier.Answer.SENT),
            "already_sent": report.names(notifier.Answer.ALREADY_SENT),
            "rejected": report.names(notifier.Answer.REJECTED),
        },
    )
