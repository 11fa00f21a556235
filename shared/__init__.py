"""riposte's common library: everything a response function needs except its own act.

Layers, lowest first (a module imports only from layers below it):

    errors, names                pure definitions
    config                       environment -> Settings, read once at start
    alert, redact, policy        the alert model and the decisions on it; no I/O
    intake                       an HTTP request -> a Delivery (envelope + alert)
    kube                         the only module that talks to the Kubernetes API
    outcome, audit               the result: reply CloudEvent, result POST, Event, log line
    endpoint                     the HTTP edge: status mapping, health, last-resort handler

functions/<name>/main.py imports from here; nothing here imports a function.
