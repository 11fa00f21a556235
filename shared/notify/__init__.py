"""notify's library: riposte's results and Falco's alerts in, messages to humans out.

    messages    what to say about an alert, a result or a dead letter, for any sink (pure)
    formats     a Message laid out for Slack (Block Kit), Teams (Adaptive Card), a webhook
    sent        which sinks already accepted which message, in this process
    sinks       the configured sinks, and sending one message to all of them at once

Layer: beside shared.acting, never importing it nor the Kubernetes client (notify starts
without either loaded; checked by import-linter, pyproject.toml).
"""
