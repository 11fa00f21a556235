"""The only module that talks to the Kubernetes API.

Credentials: `KUBECONFIG` when set (local/dev), else the in-cluster ServiceAccount.
Every call runs inside the request's Deadline (RIPOSTE_DEADLINE_SECONDS): it gets a
timeout from what is left, and is retried with full-jitter backoff on 429, 5xx and
connection errors. When the deadline passes the request ends in errors.Unavailable (503,
safe to redeliver). The client's own urllib3 retries are off, so ours are the only ones.

Errors are our own, chosen by what callers decide on (kopf's clients/errors.py idea):

    KubeError                 any refusal from the API the caller may want to handle
     +-- NotFound             404
     +-- Conflict             409: precondition failed or object changed
     |    +-- AlreadyExists   409 on create
     +-- Forbidden            403: our RBAC does not allow it (a deployment bug)
     +-- Rejected             any other 4xx (invalid object, ...)

Objects are returned as plain dicts (the API's JSON), which is what the pure policy
code and the copies want; no model classes leak out of this module.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from shared import errors, names
from shared.config import Settings
from shared.deadline import Deadline
from shared.targets import Target

# 0: the client's own wrapping of a transport failure (an SSLError while the apiserver
# shuts down arrives as ApiException(status=0)), which is a connection error, not a refusal.
TRANSIENT_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
CALL_TIMEOUT = 5.0  # one call's read timeout, when the deadline leaves more
CONNECT_TIMEOUT = 2.0
BACKOFF_BASE = 0.05
BACKOFF_CAP = 1.0

JSONObject = dict[str, Any]
# Concurrent reads of one request (Kube.snapshot); gunicorn's threads share it.
_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="kube-read")


class KubeError(Exception):
    """The API refused a call; `status` and the API's `reason` are kept."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(KubeError):
    """404: the object (or its namespace) does not exist."""


class Conflict(KubeError):
    """409: a precondition failed, or the object changed under us."""


class AlreadyExists(Conflict):
    """409 on create: an object of that name exists."""


class Forbidden(KubeError):
    """403: the ServiceAccount's RBAC does not allow the call."""


class Rejected(KubeError):
    """Any other 4xx."""


@dataclass(frozen=True)
class Snapshot:
    """Live state a decision is verified against; None means not found."""

    namespace: JSONObject | None
    object: JSONObject | None
    recorded: bool  # this alert's Event exists: the function acted on it before
    lease: JSONObject | None  # the budget Lease as read (budget.spend starts from it)


class Kube:
    """Typed access to the few API calls riposte makes; thread-safe, built lazily."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._api: k8s.ApiClient | None = None
        self._lock = threading.Lock()

    # -- reads ------------------------------------------------------------------------

    def read_namespace(self, deadline: Deadline, name: str) -> JSONObject:
        return self._call(deadline, lambda **kw: self._core.read_namespace(name, **kw))

    def read_configmap(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(deadline, lambda **kw: self._core.read_namespaced_config_map(name, namespace, **kw))

    def read_pod(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(deadline, lambda **kw: self._core.read_namespaced_pod(name, namespace, **kw))

    def read_secret(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(deadline, lambda **kw: self._core.read_namespaced_secret(name, namespace, **kw))

    def read_event(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(deadline, lambda **kw: self._core.read_namespaced_event(name, namespace, **kw))

    def list_secrets(self, deadline: Deadline, *, namespace: str, label_selector: str) -> JSONObject:
        return self._call(
            deadline,
            lambda **kw: self._core.list_namespaced_secret(namespace, label_selector=label_selector, **kw),
        )

    def snapshot(self, deadline: Deadline, target: Target, *, identity: str) -> Snapshot:
        """The target's namespace, the target itself, the Event of this alert `identity`
        and the function's budget Lease (in its own namespace), read at once.

        Four independent GETs run concurrently: a decision costs one round trip of
        reads, not four, on the path every acting alert takes.
        """
        readers = {"ConfigMap": self.read_configmap, "Pod": self.read_pod}
        own, function = self._settings.namespace, self._settings.function
        event_name, lease = names.event_name(function, identity), names.budget_lease(function)
        futures = [
            _POOL.submit(self.read_namespace, deadline, target.namespace),
            _POOL.submit(readers[target.kind], deadline, namespace=target.namespace, name=target.name),
            _POOL.submit(self.read_event, deadline, namespace=target.namespace, name=event_name),
            _POOL.submit(self.read_lease, deadline, namespace=own, name=lease),
        ]
        namespace, obj, event, budget = (_found(future) for future in futures)
        return Snapshot(namespace=namespace, object=obj, recorded=event is not None, lease=budget)

    # -- writes -----------------------------------------------------------------------

    def create_secret(self, deadline: Deadline, *, namespace: str, body: JSONObject) -> JSONObject:
        return self._call(
            deadline, lambda **kw: self._core.create_namespaced_secret(namespace, cast(Any, body), **kw)
        )

    def create_event(self, deadline: Deadline, *, namespace: str, body: JSONObject) -> JSONObject:
        return self._call(
            deadline, lambda **kw: self._core.create_namespaced_event(namespace, cast(Any, body), **kw)
        )

    def label_pod(self, deadline: Deadline, *, verified: JSONObject, labels: dict[str, str]) -> JSONObject:
        """Add `labels` to exactly the verified pod: the patch carries its uid, and a pod
        replaced under the same name answers Conflict."""
        meta = verified["metadata"]
        patch = {"metadata": {"uid": meta["uid"], "labels": labels}}
        try:
            return self._call(
                deadline,
                lambda **kw: self._core.patch_namespaced_pod(
                    meta["name"], meta["namespace"], cast(Any, patch), **kw
                ),
            )
        except Rejected as exc:
            if "metadata.uid" not in exc.message:
                raise
            # The apiserver reports a uid mismatch as an invalid (immutable) field.
            raise Conflict(409, "Conflict", f"pod {meta['namespace']}/{meta['name']} was replaced") from None

    def read_networkpolicy(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(
            deadline, lambda **kw: self._networking.read_namespaced_network_policy(name, namespace, **kw)
        )

    def list_networkpolicies(self, deadline: Deadline, *, namespace: str) -> JSONObject:
        return self._call(
            deadline, lambda **kw: self._networking.list_namespaced_network_policy(namespace, **kw)
        )

    def create_networkpolicy(self, deadline: Deadline, *, namespace: str, body: JSONObject) -> JSONObject:
        return self._call(
            deadline,
            lambda **kw: self._networking.create_namespaced_network_policy(namespace, cast(Any, body), **kw),
        )

    def read_lease(self, deadline: Deadline, *, namespace: str, name: str) -> JSONObject:
        return self._call(
            deadline, lambda **kw: self._coordination.read_namespaced_lease(name, namespace, **kw)
        )

    def replace_lease(self, deadline: Deadline, *, namespace: str, name: str, body: JSONObject) -> JSONObject:
        """Write back a Lease read earlier; its resourceVersion makes this a compare-and-swap."""
        return self._call(
            deadline,
            lambda **kw: self._coordination.replace_namespaced_lease(name, namespace, cast(Any, body), **kw),
        )

    def delete_configmap(self, deadline: Deadline, *, verified: JSONObject) -> JSONObject:
        """Delete exactly the object that was verified: its uid and resourceVersion are
        preconditions, so a replaced or modified ConfigMap answers Conflict instead."""
        meta = verified["metadata"]
        options = {"preconditions": {"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]}}
        return self._call(
            deadline,
            lambda **kw: self._core.delete_namespaced_config_map(
                meta["name"], meta["namespace"], body=cast(Any, options), **kw
            ),
        )

    # -- the one call path ------------------------------------------------------------

    @property
    def _core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self._client())

    @property
    def _coordination(self) -> k8s.CoordinationV1Api:
        return k8s.CoordinationV1Api(self._client())

    @property
    def _networking(self) -> k8s.NetworkingV1Api:
        return k8s.NetworkingV1Api(self._client())

    def _client(self) -> k8s.ApiClient:
        with self._lock:
            if self._api is None:
                self._api = _new_client(self._settings.kubeconfig)
            return self._api

    def _call(self, deadline: Deadline, request: Callable[..., Any]) -> JSONObject:
        attempt = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0.05:
                raise errors.Unavailable("Kubernetes API did not answer within the deadline")
            timeout = (min(CONNECT_TIMEOUT, remaining), min(CALL_TIMEOUT, remaining))
            retry_after: float | None = None
            try:
                response = request(_preload_content=False, _request_timeout=timeout)
                return _json(response.data)
            except ApiException as exc:
                if (exc.status or 0) not in TRANSIENT_STATUSES:
                    raise _classify(exc) from None
                retry_after = _retry_after(exc.headers)
                problem = (
                    f"Kubernetes API answered {exc.status}" if exc.status else "Kubernetes API unreachable"
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                problem = f"Kubernetes API unreachable ({type(exc).__name__})"
            attempt += 1
            delay = retry_after or random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
            if delay >= deadline.remaining() - 0.05:
                raise errors.Unavailable(f"{problem}; gave up within the deadline")
            time.sleep(delay)


def _found(future: Future[JSONObject]) -> JSONObject | None:
    try:
        return future.result()
    except NotFound:
        return None


def _new_client(kubeconfig: str | None) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    if kubeconfig:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
    else:
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.retries = False  # our loop retries, inside the deadline
    # kubernetes 37 re-reads the proxy environment (getproxies) on every request, ~0.2 ms
    # each; the proxy resolved for the API host while loading the config stays valid.
    if hasattr(configuration, "_proxy_from_env"):
        configuration._proxy_from_env = False
    configuration.connection_pool_maxsize = 16
    return k8s.ApiClient(configuration)


def _classify(exc: ApiException) -> KubeError:
    """Our error for a non-transient API answer, with the API's own reason kept."""
    reason, message = "", str(exc.reason or "")
    try:
        status = json.loads(exc.body or b"{}")
        reason, message = str(status.get("reason", "")), str(status.get("message", message))
    except (ValueError, AttributeError):
        pass
    kind: type[KubeError]
    if exc.status == 404:
        kind = NotFound
    elif exc.status == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
    elif exc.status == 403:
        kind = Forbidden
    else:
        kind = Rejected
    return kind(int(exc.status or 0), reason, message[:300])


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    try:
        return float((headers or {}).get("Retry-After", ""))
    except ValueError:
        return None


def _json(data: bytes) -> JSONObject:
    value = json.loads(data) if data else {}
    return value if isinstance(value, dict) else {}
