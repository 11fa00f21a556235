"""interact: where a human approves, rejects or undoes what riposte would do or did.

Answers:  POST /slack/actions: clicks on notify's Approve / Reject / Undo buttons (Slack
          interactivity, signed with RIPOSTE_SLACK_SIGNING_SECRET; the clicking user must
          be in RIPOSTE_APPROVERS, the workspace RIPOSTE_SLACK_TEAM_ID when set).
          GET|HEAD /review/<token>: the confirmation page of a review or undo link (changes
          nothing). POST /review/<token>: that page's form, same-origin only; who decides
          comes from the SSO proxy (RIPOSTE_SSO_PROXY, RIPOSTE_SSO_EMAIL_HEADER) or, with
          RIPOSTE_LINK_APPROVAL=anyone-with-link, the link itself, recorded as such.
Reads:    approval records `riposte-approval-<id>` in riposte-approvals; link tokens signed
          with RIPOSTE_LINK_SECRET (one salt per purpose: an Undo never approves).
Acts:     never on a target. Writes the decision on the record (compare-and-swap, signed
          with RIPOSTE_APPROVAL_KEY), then sends riposte.approval.v1 to K_SINK or
          RIPOSTE_APPROVAL_URL, and riposte.undo.v1 to RIPOSTE_UNDO_URL or K_SINK; the
          functions that act re-check all of it.
Verbs:    configmaps get, update in riposte-approvals only (RBAC below; rendered into
          deploy/knative/rbac/interact.yaml by catalogue/interact.py).
The one riposte function reachable from outside the cluster (README "Approval").
"""

from __future__ import annotations

import os

import flask
import functions_framework

from shared.acting.spec import Grant, Scope
from shared.interact import settings, web
from shared.kube.client import Kube

NAME = settings.NAME
RBAC = (Grant("", ("configmaps",), ("get", "update"), "read and decide approval records", Scope.APPROVALS),)

_APP: web.Interactions | None = None


def _started() -> web.Interactions:
    global _APP
    if _APP is None:
        conf = settings.load(os.environ)
        _APP = web.Interactions(conf, Kube(conf.settings.kubeconfig))
    return _APP


if flask.has_app_context():  # under functions-framework: a bad setting refuses to start
    _started()


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return _started().respond(request)
