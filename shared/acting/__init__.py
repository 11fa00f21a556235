"""The acting runner: one implementation of the story every acting function tells
(DESIGN.md §6, §11, §15), so a response is its spec and its own logic only.

    spec        what a function supplies: rules, target, a pure verify, act, RBAC, settings
    settings    the runner's own settings (budget, cooldown, exemptions, result sink, cluster)
    live        the live state a decision is verified against, read in one concurrent round
    exemptions  who may switch riposte off for an object (never the actor an alert is about)
    budget      the blast-radius budget: actions per window, cluster-wide; cooldown per target
    copies      restorable copies of what riposte removes
    record      the core/v1 Event of an action
    runner      parse → match → target → guard → live read → recorded? → exempt? → verify →
                dry-run → budget → act → record → reply, with Kubernetes errors mapped once

Layer: above shared's core (alert, intake, endpoint, policy, action, …) and shared.kube,
beside shared.notify, which never imports it (checked by import-linter, pyproject.toml).
"""
