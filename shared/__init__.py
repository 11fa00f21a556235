"""riposte's common library: everything a response function needs except its own act.

Layers, lowest first (a module imports only from layers below it):

    errors, names, priority, deadline   pure definitions
    config                              environment -> Settings, read once at start
    alert, redact, targets, policy,     the alert model and decisions on it; no I/O
    netpol                              (netpol: which NetworkPolicies still allow traffic)
    intake                              an HTTP request -> a Delivery (envelope + body)
    kube, webhook                       the only modules doing network I/O (API, sinks)
    copies, budget, outcome, audit      keep a copy; spend from the blast-radius budget;
                                        reply CloudEvent; Event and log line
    results, messages, formats, sent    notify: result events in, messages and sink
                                        payloads out (no I/O); what sinks accepted
    notifier                            notify's sinks: settings, sending to all at once
    endpoint                            the HTTP edge: status mapping, health, last resort

functions/<name>/main.py imports from here; nothing here imports a function.
"""
