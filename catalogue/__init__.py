"""The catalogue: riposte's functions as their specs declare them, and every file rendered
from those specs.

Each acting function declares itself once, beside its code: `SPEC` in
functions/<name>/main.py (rules, minimum priority, sources, the alert fields it reads,
RBAC grants, settings). `make manifests` (`python -m catalogue.render`) renders from the
specs what would otherwise repeat them: deploy/knative (config, RBAC, Services, Triggers,
budget Leases, kustomization), deploy/openfaas, the k8s_audit fields Falco appends
(deploy/falco/values.yaml) and the README's function and RBAC tables. The rendered files
stay committed and readable; `make test` runs `--check`, which fails when one differs.

    specs     every functions/*/main.py that defines SPEC, loaded by path, sorted by name
    site      what every rendered file shares: namespace, images, defaults, delivery
    notify    notify's deployed shape (not on the runner: no spec to read)
    settings  the environment each function is deployed with
    yamltext  YAML scalars, flow collections and wrapped comments, for hand-shaped output
    rbac      ServiceAccounts, roles and bindings: Knative, OpenFaaS CE and Standard
    knative   config env files, Services, Triggers, budget Leases, kustomization.yaml
              (a package: one module per kind of file)
    openfaas  stack.yml and the Standard/Enterprise Function CRs
    marked    a generated block between marker lines inside a hand-written file
    readme    the README's function and RBAC tables
    render    all of it, written or checked (`--check`)

A development tool: it imports shared/ and the functions, nothing imports it, and it is
not in the image (.dockerignore).
"""
