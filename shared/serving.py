"""What a served function does once, after its imports and before its first request."""

from __future__ import annotations

import gc


def settle() -> None:
    """Move everything imported so far out of the garbage collector's sight.

    The modules, classes and functions of flask, the kubernetes client and riposte live
    as long as the process; every full collection would walk them all again (tens of
    thousands of objects, most from the kubernetes client's models), and on the ignored
    path that walk costs more than the request. `gc.freeze()` keeps them out of every
    later collection; objects made per request are collected as before.
    """
    gc.collect()
    gc.freeze()
