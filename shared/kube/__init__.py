"""Kubernetes access for riposte: the only package that imports the `kubernetes` client.

    errors      our error tree, and the one function classifying an API answer into it
    resources   the resource table: kind -> group, version, plural, namespaced
    client      Kube: get / list / create / patch / update / delete (with preconditions)
                and pod logs for any kind in the table, inside the request's Deadline

Objects go in and out as plain dicts (the API's JSON): the pure policy code, the copies
and the functions' own verify steps read them as the API wrote them, and no model class
leaks out of this package. A new kind is a row in `resources`, not new methods.
"""
