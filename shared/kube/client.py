"""Kube: generic access to any kind of the resource table, inside the request's Deadline.

Credentials: `KUBECONFIG` when set (local/dev), else the in-cluster ServiceAccount (its
token file is re-read as the kubelet rotates it). The client is built on first use (or
by `warm`, while the server starts), never at import.

Every call gets a timeout from what is left of the Deadline and is retried on 429, 5xx
and connection errors (shared/retry.py); the client's own urllib3 retries are off, so
ours are the only ones. Permanent answers raise the errors of shared/kube/errors.py.

Writes carry their preconditions: `delete(uid=, resource_version=)` sends them as
DeleteOptions preconditions; `update` PUTs the object with the resourceVersion it was
read at (409 when someone wrote in between); `patch(uid=)` puts the uid into the patch,
which the apiserver answers with 422 "field is immutable" when the object was replaced
under the same name: that is reported as Conflict, as a failed precondition is.
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from shared import retry
from shared.deadline import Deadline
from shared.kube import errors, resources

JSONObject = dict[str, Any]
T = TypeVar("T")
U = TypeVar("U")

LIMITS = retry.Timeout(connect=2.0, read=5.0)  # one call's own limits, when the deadline leaves more
BACKOFF = retry.Backoff(base=0.05, cap=1.0)
POOL_SIZE = 16
FIRST_READS = 4  # the concurrent reads of a decision (namespace, object, Event, budget)
PREPARE_SECONDS = 3.0  # how long a start keeps trying to open connections in the background
# Concurrent calls of one decision (Kube.concurrently, Kube.together); gunicorn's threads share it.
_CALLS = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="kube-call")


class Patch(enum.StrEnum):
    """Patch content types the apiserver accepts."""

    MERGE = "application/merge-patch+json"  # RFC 7386: lists are replaced whole
    STRATEGIC = "application/strategic-merge-patch+json"  # built-in kinds only
    JSON = "application/json-patch+json"  # RFC 6902 operations


class Kube:
    """Thread-safe API access for one function process."""

    def __init__(self, kubeconfig: str | None) -> None:
        self._kubeconfig = kubeconfig
        self._api: k8s.ApiClient | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Build the client now (load credentials), so the first request does not pay for it."""
        self._client()

    def prepare(self, connections: int = FIRST_READS) -> threading.Thread:
        """In the background, build the client and open `connections` connections, each
        with one authenticated `GET /version`: the first alert then finds its TLS
        sessions open and its token already checked (the apiserver caches the result)
        instead of paying for both in four concurrent first reads. Any failure is left
        to the first alert: the apiserver need not be up for a function to start."""

        def run() -> None:
            try:
                deadline = Deadline(PREPARE_SECONDS)
                # Each call holds its connection until all have answered: one of their own each.
                together = threading.Barrier(connections, timeout=PREPARE_SECONDS)
                opened = [
                    _CALLS.submit(self._request, deadline, "GET", "/version", hold=together)
                    for _ in range(connections)
                ]
                for future in opened:
                    future.exception()  # waited for; a failure is the first alert's to meet
            except Exception:  # noqa: BLE001 - a best effort that must never stop a start
                pass

        thread = threading.Thread(target=run, name="kube-prepare", daemon=True)
        thread.start()
        return thread

    # -- reads ----------------------------------------------------------------------------

    def get(self, deadline: Deadline, kind: str, *, name: str, namespace: str | None = None) -> JSONObject:
        return self._json(deadline, "GET", resources.of(kind).path(namespace=namespace, name=name))

    def find(
        self, deadline: Deadline, kind: str, *, name: str, namespace: str | None = None
    ) -> JSONObject | None:
        """The object, or None when it does not exist."""
        try:
            return self.get(deadline, kind, name=name, namespace=namespace)
        except errors.NotFound:
            return None

    def items(
        self,
        deadline: Deadline,
        kind: str,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[JSONObject]:
        """The items of a collection (all namespaces when `namespace` is None for a namespaced kind)."""
        resource = resources.of(kind)
        if resource.namespaced and namespace is None:
            path = resources.Resource(kind, resource.group, resource.version, resource.plural, False).path()
        else:
            path = resource.path(namespace=namespace)
        query = [("labelSelector", label_selector), ("fieldSelector", field_selector)]
        found = self._json(deadline, "GET", path, query=[(k, v) for k, v in query if v])
        items: list[JSONObject] = found.get("items") or []
        return items

    def metadata(
        self, deadline: Deadline, kind: str, *, namespace: str, label_selector: str | None = None
    ) -> list[JSONObject]:
        """Only the metadata of a collection's items (a PartialObjectMetadataList): sizing
        large objects (evidence Secrets) by their annotations without reading their data."""
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self._request(
            deadline,
            "GET",
            resources.of(kind).path(namespace=namespace),
            query=query,
            accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        found = json.loads(data) if data else {}
        items: list[JSONObject] = found.get("items") or [] if isinstance(found, dict) else []
        return items

    def log(
        self,
        deadline: Deadline,
        *,
        namespace: str,
        name: str,
        container: str,
        tail_lines: int,
        limit_bytes: int,
        previous: bool = False,
    ) -> bytes:
        """A container's log through the apiserver (pods/log): at most `tail_lines` lines and
        `limit_bytes` bytes. A pod with no node answers 204 and an empty body."""
        query = [("container", container), ("tailLines", str(tail_lines)), ("limitBytes", str(limit_bytes))]
        if previous:
            query.append(("previous", "true"))
        path = resources.of("Pod").path(namespace=namespace, name=name, subresource="log")
        # The 1.20 apiserver refuses `Accept: text/plain` here (406); the kubelet answers text.
        return self._request(deadline, "GET", path, query=query, accept="*/*")

    def concurrently(self, *reads: Callable[[], T]) -> list[T | None]:
        """Run independent reads at once; a read that finds nothing (NotFound) gives None.

        A decision's reads cost one round trip, not one each.
        """
        futures = [_CALLS.submit(read) for read in reads]
        return [_found(future) for future in futures]

    def together(self, first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
        """Run two independent calls at once (`second` on this thread): the budget's spend
        beside the copy kept before acting. Both have finished when this returns or raises;
        an error of `second` is raised before one of `first`."""
        future = _CALLS.submit(first)
        try:
            other = second()
        finally:
            wait([future])
        return future.result(), other

    # -- writes ---------------------------------------------------------------------------

    def create(self, deadline: Deadline, body: JSONObject) -> JSONObject:
        """Create `body` (its kind and namespace say where)."""
        resource = resources.of(body["kind"])
        namespace = body.get("metadata", {}).get("namespace")
        return self._json(deadline, "POST", resource.path(namespace=namespace), body=body)

    def update(self, deadline: Deadline, body: JSONObject) -> JSONObject:
        """PUT `body` back; its metadata.resourceVersion makes this a compare-and-swap."""
        meta = body["metadata"]
        path = resources.of(body["kind"]).path(namespace=meta.get("namespace"), name=meta["name"])
        return self._json(deadline, "PUT", path, body=body)

    def patch(
        self,
        deadline: Deadline,
        kind: str,
        *,
        name: str,
        namespace: str | None = None,
        patch: JSONObject | Sequence[JSONObject],
        uid: str | None = None,
        style: Patch = Patch.MERGE,
    ) -> JSONObject:
        """Patch one object; with `uid`, only the object of that uid (else Conflict)."""
        body: Any = patch
        if uid is not None:
            if not isinstance(patch, Mapping):
                raise ValueError("a uid precondition needs an object patch, not a JSON patch")
            body = {**patch, "metadata": {**patch.get("metadata", {}), "uid": uid}}
        path = resources.of(kind).path(namespace=namespace, name=name)
        try:
            return self._json(deadline, "PATCH", path, body=body, content_type=style)
        except errors.Rejected as exc:
            if uid is None or "metadata.uid" not in exc.message:
                raise
            # The apiserver reports a uid mismatch as an invalid (immutable) field.
            raise errors.Conflict(409, "Conflict", f"{kind} {namespace}/{name} was replaced") from None

    def delete(
        self,
        deadline: Deadline,
        kind: str,
        *,
        name: str,
        namespace: str | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> JSONObject:
        """Delete exactly the object verified: `uid` / `resource_version` are preconditions
        (Conflict when the object was replaced or modified since)."""
        options: JSONObject = {"apiVersion": "v1", "kind": "DeleteOptions"}
        preconditions = {"uid": uid, "resourceVersion": resource_version}
        if any(preconditions.values()):
            options["preconditions"] = {k: v for k, v in preconditions.items() if v}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        path = resources.of(kind).path(namespace=namespace, name=name)
        return self._json(deadline, "DELETE", path, body=options)

    # -- the one call path ----------------------------------------------------------------

    def _json(
        self,
        deadline: Deadline,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
    ) -> JSONObject:
        data = self._request(deadline, method, path, query=query, body=body, content_type=content_type)
        value = json.loads(data) if data else {}
        return value if isinstance(value, dict) else {}

    def _request(
        self,
        deadline: Deadline,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        hold: threading.Barrier | None = None,
    ) -> bytes:
        """`hold`: wait there with the answer unread, its connection still checked out."""
        api = self._client()

        def attempt(timeout: retry.Timeout) -> bytes:
            # Serialised per attempt: an in-cluster token is re-read when it rotates.
            _, url, headers, _, _ = api.param_serialize(
                method,
                path,
                query_params=list(query),
                header_params={"Accept": accept, "Content-Type": content_type},
                auth_settings=["BearerToken"],
            )
            try:
                response = api.call_api(
                    method,
                    url,
                    header_params=headers,
                    body=body,
                    _request_timeout=(timeout.connect, timeout.read),
                )
                raw: urllib3.BaseHTTPResponse = response.response  # RESTResponse is unannotated
                try:
                    if hold is not None:
                        hold.wait()
                finally:
                    data: bytes = raw.data or b""  # read whole: the connection goes back to the pool
            except ApiException as exc:  # status 0: the client's wrapping of a transport failure
                raise retry.Again(f"Kubernetes API unreachable ({exc.reason})") from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise retry.Again(f"Kubernetes API unreachable ({type(exc).__name__})") from None
            status = int(raw.status)
            if 200 <= status < 300:
                return data
            if errors.transient(status):
                raise retry.Again(
                    f"Kubernetes API answered {status}", retry.seconds(raw.headers.get("Retry-After"))
                )
            raise errors.classify(status, data, str(raw.reason or ""))

        return retry.until_deadline(deadline, attempt, limits=LIMITS, backoff=BACKOFF, what="Kubernetes API")

    def _client(self) -> k8s.ApiClient:
        with self._lock:
            if self._api is None:
                self._api = _new_client(self._kubeconfig)
            return self._api


def _found(future: Future[T]) -> T | None:
    try:
        return future.result()
    except errors.NotFound:
        return None


def _new_client(kubeconfig: str | None) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    if kubeconfig:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]  # unannotated in kubernetes 37
            config_file=kubeconfig, client_configuration=configuration
        )
    else:
        k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]  # unannotated in kubernetes 37
            client_configuration=configuration
        )
    configuration.retries = False  # shared/retry.py retries, inside the deadline
    # kubernetes 37 re-reads the proxy environment (getproxies) on every request, ~0.2 ms
    # each; the proxy resolved for the API host while loading the config stays valid.
    if hasattr(configuration, "_proxy_from_env"):
        configuration._proxy_from_env = False
    configuration.connection_pool_maxsize = POOL_SIZE
    return k8s.ApiClient(configuration)
