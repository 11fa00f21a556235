"""shared/kube's error tree: one row per API answer, as the callers must read it.

Transient answers (retried inside the deadline, then 503) include status 0: the client's
wrapping of a transport failure (an SSLError while the apiserver shuts down).
"""

from __future__ import annotations

import json

import pytest

from shared.kube import errors, resources


def status(reason: str, message: str = "m") -> bytes:
    return json.dumps({"kind": "Status", "reason": reason, "message": message}).encode()


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (404, status("NotFound"), errors.NotFound),
        (409, status("AlreadyExists"), errors.AlreadyExists),
        (409, status("Conflict"), errors.Conflict),
        (403, status("Forbidden"), errors.Forbidden),
        (422, status("Invalid"), errors.Rejected),
        (400, status("BadRequest"), errors.Rejected),
        (501, status("NotImplemented"), errors.Rejected),
        (404, b"not json at all", errors.NotFound),
        (409, b"", errors.Conflict),
    ],
)
def test_a_permanent_answer_becomes_our_error(
    code: int, body: bytes, expected: type[errors.KubeError]
) -> None:
    error = errors.classify(code, body)
    assert type(error) is expected
    assert error.status == code


RETRIED = [(0, True), (429, True), (500, True), (502, True), (503, True), (504, True)]
PERMANENT = [(501, False), (404, False), (409, False), (403, False), (422, False), (200, False)]


@pytest.mark.parametrize(("code", "transient"), RETRIED + PERMANENT)
def test_which_answers_are_retried(code: int, transient: bool) -> None:
    assert errors.transient(code) is transient


def test_an_already_exists_is_a_conflict_and_every_error_a_kube_error() -> None:
    assert issubclass(errors.AlreadyExists, errors.Conflict)
    for kind in (errors.NotFound, errors.Conflict, errors.Forbidden, errors.Rejected):
        assert issubclass(kind, errors.KubeError)


def test_the_apis_message_is_kept_but_bounded() -> None:
    error = errors.classify(422, status("Invalid", "x" * 5000))
    assert error.reason == "Invalid"
    assert len(error.message) == errors.MESSAGE_MAX


@pytest.mark.parametrize(
    ("kind", "namespace", "name", "subresource", "path"),
    [
        ("Pod", "shop", "web", "", "/api/v1/namespaces/shop/pods/web"),
        ("Pod", "shop", "web", "log", "/api/v1/namespaces/shop/pods/web/log"),
        ("ConfigMap", "shop", None, "", "/api/v1/namespaces/shop/configmaps"),
        ("Namespace", None, "shop", "", "/api/v1/namespaces/shop"),
        ("NetworkPolicy", "shop", "q", "", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/q"),
        (
            "ClusterRoleBinding",
            None,
            "system:x",
            "",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system%3Ax",
        ),
        ("Lease", "riposte", "b", "", "/apis/coordination.k8s.io/v1/namespaces/riposte/leases/b"),
        ("Deployment", "shop", "web", "", "/apis/apps/v1/namespaces/shop/deployments/web"),
    ],
)
def test_the_resource_table_makes_api_paths(
    kind: str, namespace: str | None, name: str | None, subresource: str, path: str
) -> None:
    assert resources.of(kind).path(namespace=namespace, name=name, subresource=subresource) == path


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="ConfigMap"):
        resources.of("Widget")


def test_a_namespaced_kind_needs_its_namespace() -> None:
    with pytest.raises(ValueError, match="namespaced"):
        resources.of("Pod").path(name="web")
