"""deploy/knative from the specs, one module per kind of file:

    config     config/<name>.env: each function's settings (its generated ConfigMap)
    services   services/<name>.yaml: the Knative Services
    triggers   triggers/<name>.yaml: one Trigger per (function, rule); notify's
    kustomize  budget.yaml (the budget Leases) and kustomization.yaml

rbac/<name>.yaml comes from catalogue.rbac. The namespace, Broker, NetworkPolicy and
kustomizeconfig.yaml are the same for any set of functions and stay written by hand.
"""
