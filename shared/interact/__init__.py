"""interact: where humans decide (DESIGN.md §13) — Slack's buttons and the review page.

    settings   what interact is configured with, read once at start (a bad value refuses)
    slack      Slack's interactivity requests: signature, payload, message updates
    page       the confirmation page (HTML, no JavaScript) and the same-origin rule (pure)
    decisions  a decision recorded (compare-and-swap on the approval record) and handed on:
               riposte.approval.v1 to the acting function, riposte.undo.v1 to undo
    web        the HTTP edge: routes, statuses, one log line per request

interact never touches a target: its ServiceAccount may get and update ConfigMaps in
`riposte-approvals` and nothing else. What it decides is signed with RIPOSTE_APPROVAL_KEY,
and the function that acts re-checks everything (shared/acting/runner.py, functions/undo).
"""
