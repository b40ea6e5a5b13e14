"""Limits checked before acting on a file or a setting: only regular files are read, and
nothing is allocated that the machine's memory cannot hold.

Every check raises :class:`ResourceError` (or the error class the caller names, e.g. the
loaders' LoaderError) with one line saying what was asked and what is available, e.g.
``data.npz: array 'X' (float64 (1000000000, 1)) needs 7.5 GiB: too large, at most 11.7 GiB
of memory is available (half of the 23.4 GiB free now)``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MEMORY_SHARE = 0.5  # the largest single allocation, as a share of the memory available now
FALLBACK_MEMORY_BYTES = 4 << 30  # when the system does not say how much memory it has


class ResourceError(ValueError):
    """A file or setting that would need more than the machine has, or that is not a
    regular file; the message says what was asked and what is available."""


def available_memory_bytes() -> int:
    """Memory available to this process now: the system's (MemAvailable on Linux, else
    physical memory), or less where an address-space limit (``ulimit -v``) leaves less."""
    return min(_system_memory_bytes(), _address_space_left())


def _address_space_left() -> int | float:
    """What ``ulimit -v`` (RLIMIT_AS) leaves beyond the address space in use now; inf without a limit."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return float("inf")
        with open("/proc/self/statm", encoding="ascii") as f:
            in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(soft - in_use, 0)
    except (ImportError, OSError, ValueError, IndexError):
        return float("inf")


def _system_memory_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_MEMORY_BYTES


def memory_limit_bytes() -> int:
    """The most bytes one array (or one batch's activations) may ask for."""
    return int(available_memory_bytes() * MEMORY_SHARE)


def format_bytes(count: int | float) -> str:
    """``1536`` → ``"1.5 KiB"``; binary units up to EiB (a lying header may ask for that)."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} EiB"


def check_allocation(what: str, nbytes: int | float, error: type[ValueError] = ResourceError) -> None:
    """Raise ``error`` (ResourceError by default) when ``nbytes`` exceeds :func:`memory_limit_bytes`;
    ``what`` names the request, e.g. ``"data.npz: array 'X' (float64 (10⁹, 1))"``."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        raise error(f"{what} needs {format_bytes(nbytes)}: too large, at most {format_bytes(limit)} of memory is available "
                    f"(half of the {format_bytes(available_memory_bytes())} free now)")


def require_regular_file(path: str | os.PathLike, what: str = "", error: type[ValueError] = ResourceError) -> Path:
    """``path`` (symlinks followed) if it is a regular file; ``error`` (ResourceError by
    default) for a named pipe, device, socket or other non-regular file, without opening it.
    FileNotFoundError/IsADirectoryError are passed on as OSError subclasses so callers keep
    their own messages for those."""
    path = Path(path)
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a folder", str(path))
    if not stat.S_ISREG(mode):
        raise error(f"{what or path}: is {special_file_kind(mode)}; only regular files are read")
    return path


def special_file_kind(mode: int) -> str:
    """What a file that is neither regular nor a folder is, by its ``st_mode``: "a device", …"""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    return "a socket" if stat.S_ISSOCK(mode) else "a special file"
