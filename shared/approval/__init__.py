"""A human in the loop (DESIGN.md §13): approval records, signed links, their store.

    record   what an approval is: its id, fields, states and interact's signature (pure)
    links    signed, expiring tokens for review and undo links and button values (pure)
    store    approval records as ConfigMaps in `riposte-approvals`, compare-and-swap (API)

notify imports record and links only (never store: it loads no Kubernetes client).
"""
