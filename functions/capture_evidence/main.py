"""capture-evidence: keep what a human needs to decide about a pod, and change nothing in it.

Answers:  every stable Falco syscall rule that can fire in a container and that no other
          function answers, plus isolate-pod's syscall rules (one alert may reach several
          functions: a Trigger each) (RULES; RIPOSTE_RULES; minimum priority Informational).
          Host events (container.id host): 204.
Reads:    output_fields k8s.pod.name, k8s.ns.name, k8s.pod.uid, container.id.
Verifies: the live pod is the one Falco saw (uid) and runs that container; no evidence of
          that pod uid is kept yet (else `already-done`, naming the Secret); the evidence
          store is under RIPOSTE_EVIDENCE_MAX_BYTES.
Acts:     one Secret `riposte-evidence-<pod uid>` in riposte's namespace, label
          `riposte.io/evidence=true`, holding evidence.json.gz: the alert (redacted), the pod
          as read, its owner chain, its Events, each container's last
          RIPOSTE_EVIDENCE_LOG_LINES log lines, the previous instance's when it restarted
          (shared/acting/evidence.py). Nothing in the pod's namespace is written but the Event.
Verbs:    those of every acting function and pods get, pods/log get, events list; the
          owners' kinds get (apps, batch, replicationcontrollers); secrets create, get, list
          (own namespace: the evidence).
"""

from __future__ import annotations

from shared import targets
from shared.acting import evidence, owners, provenance, runner
from shared.acting.spec import Context, Done, Facts, Grant, Plan, Refusal, Settled, Spec, Verdict
from shared.action import Outcome
from shared.priority import Priority

ISOLATE_POD_RULES = (
    "Terminal shell in container",
    "Netcat Remote Code Execution in Container",
    "Redirect STDOUT/STDIN to Network Connection in Container",
    "Packet socket created in container",
)
# Stable syscall rules that can fire in a container and that no other function answers
# (catalogue/falco_rules.json; tests/unit/test_capture_evidence_rules.py keeps this true).
UNANSWERED = (
    "Directory traversal monitored file read",
    "Read sensitive file trusted after startup",
    "Read sensitive file untrusted",
    "Run shell untrusted",
    "System user interactive",
    "Contact K8S API Server From Container",
    "Search Private Keys or Passwords",
    "Clear Log Activities",
    "Remove Bulk Data from Disk",
    "Create Symlink Over Sensitive Files",
    "Create Hardlink Over Sensitive Files",
    "PTRACE attached to process",
    "PTRACE anti-debug attempt",
    "Find AWS Credentials",
    "Execution from /dev/shm",
    "Disallowed SSH Connection Non Standard Port",
)
RULES = (*UNANSWERED, *ISOLATE_POD_RULES)


def verify(facts: Facts) -> Verdict[None]:
    pod, alert = facts.object, facts.alert
    if reason := provenance.container_seen(alert, pod):
        return Refusal(reason)
    uid: str = pod["metadata"]["uid"]
    kept = evidence.where(facts.settings, uid)
    if facts.extra["evidence"] is not None:
        if not evidence.kept_for(facts.extra["evidence"], uid):
            return Refusal(f"{kept} exists and is not riposte's evidence of this pod")
        return Settled(Outcome.ALREADY_DONE, f"evidence already kept in {kept}", {"evidence": kept})
    limit = evidence.MAX_BYTES.of(facts.settings)
    if facts.extra["used"] >= limit:
        return Refusal(
            f"evidence store full: {facts.extra['used']} bytes kept, RIPOSTE_EVIDENCE_MAX_BYTES is {limit}"
        )
    return Plan(
        f"keep evidence of the pod in {kept}", None, cooldown=f"pod/{uid}", details={"evidence": kept}
    )


def act(context: Context, facts: Facts, plan: Plan[None]) -> Done:
    pod = facts.object
    kept = evidence.capture(context, pod, owners.chain(context.kube, context.deadline, pod))
    outcome = Outcome.ACTED if kept.created else Outcome.ALREADY_DONE
    return Done(outcome, kept.summary(), pod["metadata"]["uid"], kept.details())


SPEC = Spec(
    name="capture-evidence",
    summary="keeps the alert, the pod, its owners, Events and recent logs in one Secret per pod uid; "
    "changes nothing in the pod",
    rules=RULES,
    min_priority=Priority.INFORMATIONAL,
    sources=("syscall",),
    fields=("k8s.pod.name", "k8s.ns.name", "k8s.pod.uid", "container.id"),
    target=targets.pod,
    applies=provenance.not_host_event,
    verify=verify,
    act=act,
    recall=evidence.recall,
    context_follows={"evidence": evidence.existing, "used": evidence.used},
    settings=evidence.SETTINGS,
    rbac=(
        Grant("", ("pods",), ("get",), "re-read the pod the alert names (uid, container)"),
        *evidence.GRANTS,
    ),
)
handle = runner.serve(SPEC)
