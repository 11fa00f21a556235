"""Falco priorities, in Falco's order (falco/userspace/engine/falco_common.cpp)."""

from __future__ import annotations

import enum


class Priority(enum.IntEnum):
    """Comparable Falco priority; `Priority.WARNING < Priority.ERROR`."""

    DEBUG = 0
    INFORMATIONAL = 1
    NOTICE = 2
    WARNING = 3
    ERROR = 4
    CRITICAL = 5
    ALERT = 6
    EMERGENCY = 7

    @property
    def label(self) -> str:
        """The spelling Falco sends: capitalised (`Informational`, never `INFO`)."""
        return self.name.capitalize()

    @classmethod
    def parse(cls, text: str) -> Priority | None:
        """Falco's spelling, case-insensitively; `info` is Falco's rule-file alias."""
        key = text.strip().upper()
        if key == "INFO":
            return cls.INFORMATIONAL
        return cls.__members__.get(key)
