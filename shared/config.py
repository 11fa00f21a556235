"""Settings, read once from the environment when a function starts (DESIGN.md §5).

A bad value raises ConfigError at import time of the function's main.py, so the process
refuses to start instead of running with a guess. Every secret-carrying variable has a
`_FILE` form that names a mounted secret file.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from shared import errors, names
from shared.priority import Priority

log = logging.getLogger("riposte")

DEFAULT_PROTECTED = ("kube-system", "kube-public", "kube-node-lease")
SERVICEACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# Falcosidekick drops a CLOUDEVENTS_EXTENSIONS / WEBHOOK_CUSTOMHEADERS value holding
# ':' or ',' without a word, so a token outside this alphabet would silently never arrive.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,}", re.ASCII)
_BUDGET = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*s\s*", re.ASCII)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting a function (or the acting runner) declares beside its code.

    Read with every other setting when the function starts (`load(declared=...)`); a bad
    value refuses to start with a message naming the variable. `parse` gets the stripped
    text and raises ValueError saying what was expected. `secret` settings have a
    `_FILE` form. The README's configuration section lists each declared setting.
    """

    name: str
    parse: Callable[[str], T]
    default: T
    doc: str
    secret: bool = False

    def read(self, env: Mapping[str, str]) -> T:
        raw = secret(env, self.name) if self.secret else env.get(self.name)
        if raw is None or not raw.strip():
            return self.default
        try:
            return self.parse(raw.strip())
        except ValueError as exc:
            raise errors.ConfigError(f"{self.name}: {exc}") from None

    def of(self, settings: Settings) -> T:
        """This setting's value in `settings` (its default when it was not declared there)."""
        return cast(T, settings.values.get(self.name, self.default))


def parse_flag(text: str) -> bool:
    """true/false, 1/0, yes/no, on/off."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"must be true or false, found {text!r}")


def Flag(name: str, *, default: bool = False, doc: str) -> Setting[bool]:  # noqa: N802 - a Setting factory
    """A boolean Setting."""
    return Setting(name, parse_flag, default, doc)


@dataclass(frozen=True)
class Budget:
    """`count` actions per `seconds`, and one action per target per `cooldown` seconds."""

    count: int
    seconds: int
    cooldown: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_budget(spec: str, cooldown: int) -> Budget:
    """`<count>/<seconds>s`, e.g. `10/60s`; ConfigError otherwise."""
    match = _BUDGET.fullmatch(spec)
    # At most 1,000 actions per window: the window's actions live in one Lease's
    # annotations, and Kubernetes caps an object's annotations at 256 KiB.
    if match is None or not 1 <= int(match.group(1)) <= 1000 or not 1 <= int(match.group(2)) <= 86_400:
        raise errors.ConfigError(
            f"RIPOSTE_BUDGET must look like 10/60s (1 to 1000 actions per 1 to 86400 seconds), found {spec!r}"
        )
    if not 0 <= cooldown <= 86_400:
        raise errors.ConfigError("RIPOSTE_COOLDOWN_SECONDS must be from 0 to 86400")
    return Budget(count=int(match.group(1)), seconds=int(match.group(2)), cooldown=cooldown)


@dataclass(frozen=True)
class Settings:
    """What one function process was configured with."""

    function: str
    dry_run: bool
    rules: frozenset[str]
    min_priority: Priority
    sources: frozenset[str]
    protected_namespaces: frozenset[str]
    namespace: str
    token: str | None
    deadline_seconds: float
    result_url: str | None
    kubeconfig: str | None
    budget: Budget
    values: Mapping[str, object] = field(default_factory=dict)  # the declared Settings' values
    # CloudEvent types accepted without the sender token: events that carry no authority of
    # their own (undo's schedule: a PingSource cannot send a secret header).
    open_event_types: frozenset[str] = frozenset()


def load(
    function: str,
    *,
    rules: tuple[str, ...],
    min_priority: Priority,
    sources: tuple[str, ...] = (),
    budget: str = "10/60s",
    cooldown_seconds: int = 60,
    declared: Sequence[Setting[Any]] = (),
    open_event_types: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings for `function` from the environment, the function's defaults and the
    Settings it `declared`."""
    env = os.environ if environ is None else environ
    namespace = _own_namespace(env)
    token = secret(env, "RIPOSTE_TOKEN")
    if token is not None and TOKEN_PATTERN.fullmatch(token) is None:
        raise errors.ConfigError(
            "RIPOSTE_TOKEN must match [A-Za-z0-9._~-]{16,} "
            "(Falcosidekick silently drops header values holding ':' or ',')"
        )
    if token is None:
        log.warning("%s: RIPOSTE_TOKEN is not set: accepting alerts from any sender", function)
    protected = _csv(env.get("RIPOSTE_PROTECTED_NAMESPACES"))
    return Settings(
        function=function,
        dry_run=flag(env, "RIPOSTE_DRY_RUN"),
        rules=frozenset(_rules(env.get("RIPOSTE_RULES"), rules)),
        min_priority=_priority(env.get("RIPOSTE_MIN_PRIORITY"), min_priority),
        sources=frozenset(_csv(env.get("RIPOSTE_SOURCES")) or sources),
        protected_namespaces=frozenset((protected or DEFAULT_PROTECTED) + (namespace,)),
        namespace=namespace,
        token=token,
        deadline_seconds=_deadline(env.get("RIPOSTE_DEADLINE_SECONDS")),
        result_url=url(env, "RIPOSTE_RESULT_URL"),
        kubeconfig=env.get("KUBECONFIG") or None,
        budget=parse_budget(
            env.get("RIPOSTE_BUDGET") or budget, _int(env, "RIPOSTE_COOLDOWN_SECONDS", cooldown_seconds)
        ),
        values={setting.name: setting.read(env) for setting in declared},
        open_event_types=frozenset(open_event_types),
    )


def secret(env: Mapping[str, str], name: str, *, empty_disables: bool = False) -> str | None:
    """`name` from the environment, or the content of the file `name_FILE` points at.

    An empty file is an error (a mis-mounted token must never mean "no token"), unless
    `empty_disables`: then it switches the setting off, as for an unused notify sink.
    """
    direct = env.get(name) or None
    path = env.get(f"{name}_FILE") or None
    if direct is not None and path is not None:
        raise errors.ConfigError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return direct
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise errors.ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
    if not value:
        if empty_disables:
            return None
        raise errors.ConfigError(f"{name}_FILE: {path} is empty")
    return value


def url(env: Mapping[str, str], name: str, *, empty_disables: bool = False) -> str | None:
    """An http(s) URL setting (secret-capable). The URL itself never appears in errors."""
    value = secret(env, name, empty_disables=empty_disables)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.ConfigError(f"{name} must be an http:// or https:// URL")
    return value


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A boolean setting: true/false, 1/0, yes/no, on/off."""
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return parse_flag(raw)
    except ValueError:
        raise errors.ConfigError(f"{name} must be true or false, found {raw!r}") from None


def _own_namespace(env: Mapping[str, str]) -> str:
    value = env.get("RIPOSTE_NAMESPACE")
    if not value and SERVICEACCOUNT_NAMESPACE_FILE.is_file():
        value = SERVICEACCOUNT_NAMESPACE_FILE.read_text(encoding="utf-8").strip()
    value = value or "riposte"
    if not names.is_dns_label(value):
        raise errors.ConfigError(f"RIPOSTE_NAMESPACE {value!r} is not a namespace name")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.ConfigError(f"{name} must be a whole number, found {raw!r}") from None


def _csv(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _rules(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return default
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise errors.ConfigError(f"RIPOSTE_RULES must be a JSON list of rule names: {exc}") from None
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise errors.ConfigError("RIPOSTE_RULES must be a non-empty JSON list of rule names")
    return tuple(value)


def _priority(raw: str | None, default: Priority) -> Priority:
    if raw is None or not raw.strip():
        return default
    value = Priority.parse(raw)
    if value is None:
        known = ", ".join(p.label for p in Priority)
        raise errors.ConfigError(f"RIPOSTE_MIN_PRIORITY must be one of {known}, found {raw!r}")
    return value


def _deadline(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return 10.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.5 <= value <= 300:
        raise errors.ConfigError(f"RIPOSTE_DEADLINE_SECONDS must be a number from 0.5 to 300, found {raw!r}")
    return value
