"""The acting story, once (DESIGN.md §6, §11): every acting function's `handle`.

    parse → match → target → protected namespace → did the audited request succeed? →
    live read (one concurrent round) → already recorded? → the object the alert is
    about? → exempt? → verify (the spec's, pure) → dry-run → budget, with the spec's
    prepare (a copy) alongside → act (the spec's) → record (Event, reply, result sink, log line)

Kubernetes errors are mapped here and nowhere else:
- the target is not found, before or while acting: the spec's `gone` hook (say,
  `already-done` when riposte holds a copy), else `refused`;
- 409 while acting (changed since verified): re-read and verify once more; the object
  must still be the one verified (same uid), else `refused`;
- any other refusal from the API (403: a deployment bug, 422, …) and the spec's own
  `Failed`: `failed` (200), with the reason: redelivery cannot fix it, the humans must;
- the API unavailable past the deadline: errors.Unavailable (503), safe to redeliver.

A function's main.py is its Spec and its own logic; `handle = runner.serve(SPEC)`.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import flask
import flask.typing
import functions_framework

from shared import alert as alert_model
from shared import config, endpoint, errors, policy, serving, webhook
from shared.acting import budget, copies, exemptions, live, provenance, record
from shared.acting.settings import (
    APPROVAL,
    APPROVAL_KEY,
    APPROVAL_TTL,
    APPROVERS,
    LINK_APPROVAL,
    RUNNER_SETTINGS,
)
from shared.acting.spec import (
    Context,
    ContextFollow,
    Facts,
    Failed,
    Follow,
    Plan,
    Refusal,
    Refused,
    Settled,
    Spec,
)
from shared.action import ActionResult, AlertSummary, Outcome
from shared.approval import record as approval_record
from shared.approval import store as approvals
from shared.approval.record import Approval, State
from shared.intake import Delivery
from shared.kube import errors as kube_errors
from shared.kube.client import Kube
from shared.targets import Target

_EMPTY: Mapping[str, Any] = MappingProxyType({})
APPROVAL_EVENT = "riposte.approval.v1"  # from interact: a human approved (DESIGN §13)
# outcome, reason, details, and the object it is about when not the alert's target
Decided = tuple[Outcome, str, Mapping[str, Any], Target | None]


def load_settings(spec: Spec[Any], environ: Mapping[str, str] | None = None) -> config.Settings:
    """The function's settings, from the environment, its spec's defaults and declarations."""
    import os

    env = os.environ if environ is None else environ
    if spec.requires_rules and not (env.get("RIPOSTE_RULES") or "").strip():
        raise errors.ConfigError(
            f"{spec.name} acts on no rule by default: set RIPOSTE_RULES to the JSON list of Falco "
            'rules it should answer, e.g. ["Terminal shell in container"]'
        )
    settings = config.load(
        spec.name,
        rules=spec.rules,
        min_priority=spec.min_priority,
        sources=spec.sources,
        declared=(*RUNNER_SETTINGS, *spec.settings),
        environ=env,
    )
    if APPROVAL.of(settings) and APPROVAL_KEY.of(settings) is None:
        raise errors.ConfigError(
            "RIPOSTE_APPROVAL=required needs RIPOSTE_APPROVAL_KEY (or _FILE): the key interact signs "
            "approvals with"
        )
    return settings


class Runner:
    """One acting function in one process: its spec, settings and API access.

    Built lazily from the environment (`start`), or from what a test hands it.
    """

    def __init__(
        self, spec: Spec[Any], settings: config.Settings | None = None, kube: Kube | None = None
    ) -> None:
        self.spec = spec
        self._settings = settings
        self._kube = kube

    def start(self) -> Runner:
        """Read the settings now (a bad value refuses to start) and prepare API access."""
        if self._settings is None:
            self._settings = load_settings(self.spec)
        if self._kube is None:
            self._kube = Kube(self._settings.kubeconfig)
        return self

    @property
    def settings(self) -> config.Settings:
        return self.start()._settings  # type: ignore[return-value]  # set by start()

    @property
    def kube(self) -> Kube:
        return self.start()._kube  # type: ignore[return-value]  # set by start()

    def respond(self, request: flask.Request) -> flask.Response:
        return endpoint.respond(request, self.settings, self.handle)

    def handle(self, delivery: Delivery, call: endpoint.Call) -> ActionResult | None:
        spec, settings = self.spec, self.settings
        approved: Approval | None = None
        if delivery.event_type == APPROVAL_EVENT:
            approved = self._approval(delivery, call)
            if approved is None:
                return None  # 204: another function's approval
            call.alert = alert_model.parse(approved.alert)
            alert = call.alert
        else:
            alert = call.alert_from(delivery)  # 400: not an alert
        if not policy.matches(settings, alert, None if approved else delivery.event_type):
            return None  # 204: not for this function
        if spec.applies is not None and not spec.applies(alert):
            return None  # 204: not for this function (say, a host event)
        target = call.aimed_at(spec.target(alert))  # 422: no valid target in the alert
        context = Context(self.kube, call.deadline, settings, alert, target, call.warnings)
        if approved is not None and (refusal := self._not_approved(approved, target)):
            outcome, reason, details, about = Outcome.REFUSED, refusal, _EMPTY, None
        else:
            outcome, reason, details, about = self._decide(context, approved)
        result = ActionResult(
            function=spec.name,
            action=spec.name,
            target=about or target,
            outcome=outcome,
            reason=reason,
            alert=AlertSummary.of(alert),
            dry_run=settings.dry_run,
            details=details,
        ).finished(int(call.deadline.elapsed_ms()))
        self._publish(result, call)
        return result

    def _approval(self, delivery: Delivery, call: endpoint.Call) -> Approval | None:
        """The approval record a `riposte.approval.v1` event names, or None when it is
        another function's. The event carries only the id: everything else is re-read."""
        body = delivery.body
        approval_id, function = body.get("id"), body.get("function")
        if not isinstance(approval_id, str) or not isinstance(function, str):
            raise errors.NotAnApproval(
                "an approval event carries the record's 'id' and 'function' as strings"
            )
        if function != self.spec.name:
            return None
        found = approvals.get(self.kube, call.deadline, approval_id[:64])
        if found is None:
            raise errors.NotAnApproval(
                f"no approval record {approval_id[:64]!r} in {approval_record.NAMESPACE}"
            )
        if found.function != self.spec.name:
            raise errors.NotAnApproval(f"approval {found.id} is {found.function}'s, not {self.spec.name}'s")
        return found

    def _not_approved(self, approval: Approval, target: Target) -> str | None:
        """Why an approval record does not allow this function to act, or None. Fails closed."""
        settings, key = self.settings, APPROVAL_KEY.of(self.settings)
        if key is None or not approval.valid(key):
            return f"approval {approval.id} is not signed with RIPOSTE_APPROVAL_KEY: not acted on"
        if approval.state is not State.APPROVED:
            return f"approval {approval.id} is {approval.state}" + (
                f" by {approval.decided_by}" if approval.decided_by else ""
            )
        if approval.expired(datetime.datetime.now(datetime.UTC)):
            return f"approval {approval.id} expired at {approval.expires_at}"
        open_link = approval.link_mode == approval_record.LINK_OPEN
        if open_link and not LINK_APPROVAL.of(settings):
            return f"approval {approval.id} came from a link without SSO (RIPOSTE_LINK_APPROVAL is sso-only)"
        if not open_link and approval.decided_by not in APPROVERS.of(settings):
            return f"{approval.decided_by} is not one of this function's RIPOSTE_APPROVERS"
        if approval.target != target:
            return f"approval {approval.id} is about {approval.target.subject}, not {target.subject}"
        return None

    def _decide(self, context: Context, approved: Approval | None = None) -> Decided:
        spec, settings, kube, deadline = self.spec, context.settings, context.kube, context.deadline
        alert, target = context.alert, context.target
        if target.namespace is not None and (
            reason := policy.protected_namespace(settings, target.namespace)
        ):
            return Outcome.REFUSED, reason, _EMPTY, None
        if reason := provenance.request_failed(alert, creates=spec.creates):
            return Outcome.REFUSED, reason, _EMPTY, None
        try:
            state = live.read(kube, deadline, settings, target, identity=alert.identity, reads=spec.reads)
            if state.recorded:
                said, details = spec.recall(context) if spec.recall else ("", _EMPTY)
                return Outcome.ALREADY_DONE, f"this alert was acted on before{said}", details, None
            obj = state.object
            for attempt in range(2):  # a 409 while acting earns one re-read and re-verify
                if obj is None:
                    return self._gone(context)
                follows = {**spec.follows, **_in_context(context, spec.context_follows)}
                extra = {**state.extra, **live.follow(kube, deadline, obj, follows)}
                facts = Facts(alert, target, obj, state.namespace, extra, settings)
                if reason := provenance.not_the_object(alert, target, obj) or exemptions.exempt(facts):
                    return Outcome.REFUSED, reason, _EMPTY, None
                verdict = spec.verify(facts)
                if isinstance(verdict, Refusal):
                    return Outcome.REFUSED, verdict.reason, verdict.details, verdict.target
                uid: str = obj["metadata"]["uid"]
                if isinstance(verdict, Settled):
                    if verdict.outcome is not Outcome.ALREADY_DONE:
                        on = verdict.target or target
                        self._record(context, on, verdict.uid or uid, verdict.outcome, verdict.reason)
                    return verdict.outcome, verdict.reason, verdict.details, verdict.target
                if settings.dry_run:
                    return Outcome.DRY_RUN, f"would {verdict.describe}", verdict.details, verdict.target
                if approved is None and APPROVAL.of(settings):
                    return self._ask(context, verdict, uid)
                if approved is not None and approved.target_uid != uid:
                    return (
                        Outcome.REFUSED,
                        f"{target.kind} changed since it was approved (uid {approved.target_uid}, now {uid})",
                        _EMPTY,
                        verdict.target,
                    )
                try:
                    if attempt == 0:
                        spent = self._spend(context, facts, verdict, state.lease)
                        if isinstance(spent, Refusal):
                            return Outcome.REFUSED, spent.reason, spent.details, spent.target
                        verdict = spent
                    elif spec.prepare is not None:
                        verdict = spec.prepare(context, facts, verdict)
                    done = spec.act(context, facts, verdict)
                except kube_errors.Conflict:
                    obj = kube.find(deadline, target.kind, name=target.name, namespace=target.namespace)
                    if obj is not None and obj["metadata"]["uid"] != uid:
                        return (
                            Outcome.REFUSED,
                            f"{target.kind} was replaced while being acted on",
                            _EMPTY,
                            None,
                        )
                    continue
                except Refused as refused:
                    return Outcome.REFUSED, str(refused), _EMPTY, verdict.target
                acted_on = done.target or verdict.target
                reason, details = done.reason, {**done.details, "uid": done.uid}  # what undo names
                if approved is not None:
                    who = f"{approved.decided_by} via {approved.channel}"
                    reason, details = f"{reason} (approved by {who})", {**details, "approved_by": who}
                if done.outcome is not Outcome.ALREADY_DONE:
                    self._record(context, acted_on or target, done.uid, done.outcome, reason)
                return done.outcome, reason, details, acted_on
            return Outcome.REFUSED, f"{target.kind} kept changing while being verified", _EMPTY, None
        except kube_errors.NotFound:
            return self._gone(context)
        except (Failed, copies.CopyMismatch, kube_errors.KubeError) as exc:
            return Outcome.FAILED, f"not done: {exc}", _EMPTY, None

    def _ask(self, context: Context, plan: Plan[Any], uid: str) -> Decided:
        """Store (or find, for a redelivery) the pending approval instead of acting."""
        settings = context.settings
        key = APPROVAL_KEY.of(settings)
        assert key is not None  # load_settings refuses to start without it
        asked = approvals.create(
            context.kube,
            context.deadline,
            approval_record.request(
                function=self.spec.name,
                action=plan.describe,
                alert=context.alert,
                target=context.target,
                target_uid=uid,
                now=datetime.datetime.now(datetime.UTC),
                ttl_seconds=APPROVAL_TTL.of(settings),
                key=key,
            ),
        )
        details = {**plan.details, "approval": asked.id, "expires_at": asked.expires_at}
        if asked.state is State.PENDING:
            return (
                Outcome.PENDING_APPROVAL,
                f"waiting for a human to approve: would {plan.describe}",
                details,
                plan.target,
            )
        said = f" by {asked.decided_by}" if asked.decided_by else ""
        if asked.state is State.APPROVED:  # the approval's own event does the acting
            return Outcome.PENDING_APPROVAL, f"approved{said}; acting on the approval", details, plan.target
        return Outcome.REFUSED, f"approval {asked.id} was {asked.state}{said}", details, plan.target

    def _gone(self, context: Context) -> Decided:
        if self.spec.gone is not None and (said := self.spec.gone(context)) is not None:
            return (*said, None)
        target = context.target
        where = f" (or its namespace {target.namespace})" if target.namespace else ""
        return Outcome.REFUSED, f"{target.kind}{where} not found: deleted, or never existed", _EMPTY, None

    def _spend(
        self, context: Context, facts: Facts, plan: Plan[Any], lease: dict[str, Any] | None
    ) -> Plan[Any] | Refusal:
        """Spend from the budget: the plan to carry out, or the budget's refusal.

        The spec's `prepare` (keeping a copy) runs during the spend, so the budget's
        compare-and-swap write costs no round trip of its own. A refusal the Lease as read
        already shows comes first, so nothing is prepared for an action never taken; one
        only a re-read shows (another replica spent the last unit) names what was prepared.
        """
        kube, deadline, settings = context.kube, context.deadline, context.settings
        key, alert = plan.cooldown or (plan.target or context.target).subject, context.alert.identity
        spend = functools.partial(budget.spend, kube, deadline, settings, key, alert=alert, lease=lease)
        if (prepare := self.spec.prepare) is None:
            refusal = spend()
        else:
            decided = budget.decide(kube, deadline, settings, key, alert=alert, lease=lease)
            if (refusal := decided.refusal) is None:
                refusal, prepared = kube.together(
                    functools.partial(spend, decided=decided),
                    functools.partial(prepare, context, facts, plan),
                )
                return prepared if refusal is None else Refusal(refusal, prepared.details, plan.target)
        return plan if refusal is None else Refusal(refusal, target=plan.target)

    def _record(self, context: Context, about: Target, uid: str, outcome: Outcome, reason: str) -> None:
        warning = record.event(
            context.kube,
            context.deadline,
            context.settings,
            alert=AlertSummary.of(context.alert),
            target=about,
            uid=uid,
            outcome=outcome,
            reason=reason,
        )
        if warning:
            context.warnings.append(warning)

    def _publish(self, result: ActionResult, call: endpoint.Call) -> None:
        """POST the result to RIPOSTE_RESULT_URL (deployments without a broker); 503 if it
        stays down. A permanent refusal (say, notify refusing the token) is a warning: the
        reply event still carries the result, and redelivery would not heal it."""
        settings = self.settings
        if settings.result_url is None:
            return
        headers, body = endpoint.reply(result, settings)
        try:
            webhook.post("RIPOSTE_RESULT_URL", settings.result_url, call.deadline, body=body, headers=headers)
        except webhook.SinkRejected as exc:
            call.warnings.append(str(exc))


def _in_context(context: Context, follows: Mapping[str, ContextFollow]) -> dict[str, Follow]:
    """The spec's context follows, as follows of this decision."""
    return {name: functools.partial(_with_context, read, context) for name, read in follows.items()}


def _with_context(read: ContextFollow, context: Context, kube: Kube, deadline: Any, obj: Any) -> Any:
    return read(context, obj)


def serve(spec: Spec[Any]) -> Callable[[flask.Request], flask.typing.ResponseReturnValue]:
    """The functions-framework entry point of `spec`: `handle = runner.serve(SPEC)`.

    functions-framework executes the function's source inside a Flask app context, and
    there the settings are read at once, so a bad value refuses to start the server. A
    plain import (unit tests, `make manifests` reading the spec) reads nothing: the
    runner then starts on its first request.
    """
    runner = Runner(spec)
    if flask.has_app_context():
        runner.start()
        serving.in_each_worker(runner.kube.prepare)
        serving.settle()

    @functions_framework.http
    def handle(request: flask.Request) -> flask.Response:
        return runner.respond(request)

    handle.runner = runner  # type: ignore[attr-defined]  # for tests and the bench
    return handle
