"""What a served function does once, after its imports and before its first request."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable


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


def in_each_worker(start: Callable[[], object]) -> None:
    """Run `start` in each worker process gunicorn forks, as it begins.

    functions-framework imports the function in gunicorn's master, which then forks the
    worker: a thread or a connection made at import time would be the master's alone
    (and a lock a thread held at the fork stays held in the child for ever). Work that
    needs threads or sockets therefore starts after the fork, in the child.
    """
    os.register_at_fork(after_in_child=start)
