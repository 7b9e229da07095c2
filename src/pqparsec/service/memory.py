"""Giving memory back to the system after a burst of large requests.

A request body of up to `body_len_limit` bytes (1 MiB by default) is read into one buffer, parsed
by protobuf into another, and often copied once more by the operation. CPython hands buffers this
size to the C library's malloc. glibc serves large allocations with mmap and returns them on
free, but its threshold for that is dynamic: each freed mmapped chunk raises it (up to 32 MiB),
after which the same 1 MiB buffers come from the heap and from per-thread arenas, and stay there.
A burst of 200 connections with 1 MiB bodies used to leave a worker at about 200 MB until it
exited.

`configure()`, called once at start-up before any thread is started (forked workers inherit its
settings), fixes the thresholds, so that large buffers are always mmapped and unmapped when
freed, and bounds the number of malloc arenas (the listener's connection threads would otherwise
get up to 8 per CPU). `release_after_large(n)`,
called by the listener after answering a request that carried n bytes, asks glibc to return the
free memory at the top of its heaps (malloc_trim), at most once per `TRIM_INTERVAL_S`.

Both do nothing where the C library is not glibc (musl, other systems), which has neither call:
the service works the same there, and keeps what it has allocated.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

# mallopt parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# Allocations from this size up are mmapped, and unmapped on free. Below the protobuf and socket
# buffers of a large request, above everything the common path allocates (a signature request
# is a few hundred bytes).
MMAP_THRESHOLD = 128 * 1024
# Free memory at the top of a heap beyond this is returned at once (glibc starts at 128 KiB and
# adjusts it with the mmap threshold; setting the mmap threshold turns that adjustment off).
TRIM_THRESHOLD = 256 * 1024
# malloc arenas: the main one and one more, shared by all the connection threads.
ARENA_MAX = 2
# A request at least this large is followed by a trim (rate-limited).
LARGE_REQUEST = 64 * 1024
TRIM_INTERVAL_S = 1.0

_libc: Any = None
_lock = threading.Lock()
_last_trim = 0.0
_timer: threading.Timer | None = None


def glibc() -> bool:
    """Whether this process runs on glibc (the one C library whose malloc these calls tune)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False


def _load() -> Any:
    global _libc
    if _libc is None and glibc():
        import ctypes  # only where it is used: about 0.6 MiB of RSS
        try:
            lib = ctypes.CDLL("libc.so.6", use_errno=True)
            lib.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            lib.mallopt.restype = ctypes.c_int
            lib.malloc_trim.argtypes = (ctypes.c_size_t,)
            lib.malloc_trim.restype = ctypes.c_int
        except (OSError, AttributeError):
            return None
        _libc = lib
    return _libc


def configure() -> bool:
    """Fix malloc's thresholds and arena count (see the module's docstring). Call once, early in
    a worker, before its threads start. Returns whether the C library took the settings."""
    lib = _load()
    if lib is None:
        return False
    ok = bool(lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    ok = bool(lib.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and ok
    return bool(lib.mallopt(M_ARENA_MAX, ARENA_MAX)) and ok


def trim() -> bool:
    """Return free heap memory to the system now (malloc_trim(0)). Whether any was returned."""
    lib = _load()
    return bool(lib.malloc_trim(0)) if lib is not None else False


def release_after_large(n_bytes: int) -> None:
    """After serving a request of n_bytes (body and response): if it was large, trim the heaps,
    at most once per TRIM_INTERVAL_S. A large request within the interval schedules one trim at
    its end (a timer thread, at most one at a time), so that the last requests of a burst are
    trimmed after too. For a small request this is one comparison."""
    global _last_trim, _timer
    if n_bytes < LARGE_REQUEST:
        return
    with _lock:
        wait = _last_trim + TRIM_INTERVAL_S - time.monotonic()
        if wait > 0:
            if _timer is None:
                _timer = threading.Timer(wait, _timed_trim)
                _timer.daemon = True
                _timer.start()
            return
        _last_trim = time.monotonic()
    trim()


def _timed_trim() -> None:
    global _last_trim, _timer
    with _lock:
        _timer = None
        _last_trim = time.monotonic()
    trim()
