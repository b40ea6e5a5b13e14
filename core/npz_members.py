"""One array of an ``.npz`` file, read safely: its header first, then its size, then its data.

:func:`read_member` looks at a member's zip entry and ``.npy`` header before reading any
data, and refuses (one line naming the file and the array):

- a zip entry whose declared uncompressed size exceeds the memory limit, before anything
  is decompressed (a zip bomb);
- Python objects (never unpickled) and complex numbers (Epoch Lab works with real ones);
- a declared shape and dtype that need more memory than core.limits allows, counting the
  float64 copy the caller makes when it says so (ResourceError);
- a header promising more or fewer bytes than the zip entry holds (truncated or damaged).

Only then does numpy read the array. Problems with the file raise core.files'
FileFormatError, imported when raised because core.files imports this module.
"""

from __future__ import annotations

import math
import struct
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .limits import check_allocation

NPY_SUFFIX = ".npy"
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
FLOAT64_BYTES = 8
# what numpy and zipfile raise for damaged members (encrypted or unsupported entries, bad headers, short data, …)
READ_ERRORS = (zlib.error, zipfile.BadZipFile, EOFError, OSError, ValueError, MemoryError, RuntimeError,
               NotImplementedError, struct.error, IndexError, TypeError, OverflowError, SyntaxError, tokenize.TokenError)


@dataclass(frozen=True)
class MemberHeader:
    """What a member's ``.npy`` header declares: ``shape``, ``dtype``, and ``header_bytes``
    (the magic string and the header, before the data)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    header_bytes: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def data_bytes(self) -> int:
        return self.count * self.dtype.itemsize


def _format_error(message: str) -> ValueError:
    """A core.files.FileFormatError (imported here, not at the top: core.files imports this module)."""
    from .files import FileFormatError

    return FileFormatError(message)


def reason(exc: BaseException) -> str:
    """The first line of what ``exc`` says (numpy's own advice about unsafe loading, on later
    lines, is never passed on), or its type's name."""
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def _member_info(npz: Any, key: str, path: str | Path) -> zipfile.ZipInfo:
    """The zip entry of array ``key`` (``key.npy``, or ``key`` itself as numpy allows)."""
    names = set(npz.zip.namelist())
    for name in (key + NPY_SUFFIX, key):
        if name in names:
            return npz.zip.getinfo(name)
    raise _format_error(f"{path}: has no array '{key}' (it has: {', '.join(npz.files) or 'nothing'})")


def _read_header(npz: Any, info: zipfile.ZipInfo, key: str, path: str | Path) -> MemberHeader:
    try:
        with npz.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            read_header = HEADER_READERS.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = read_header(f)
            return MemberHeader(tuple(int(s) for s in shape), dtype, f.tell())
    except READ_ERRORS as exc:
        raise _format_error(f"{path}: array '{key}' cannot be read ({reason(exc)})") from None


def _check_entry_size(npz: Any, info: zipfile.ZipInfo, key: str, path: str | Path) -> None:
    """Refuse an entry that would decompress to more than memory allows, or whose stored
    bytes run past the archive's data: both before decompressing anything."""
    check_allocation(f"{path}: array '{key}' (its zip entry, decompressed)", info.file_size)
    stored_wrongly = info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size
    if stored_wrongly or info.header_offset + info.compress_size > npz.zip.start_dir:
        raise _format_error(f"{path}: array '{key}' is truncated or damaged: its zip entry claims {info.compress_size:,} "
                            "bytes that the file does not hold")


def _checked_header(npz: Any, info: zipfile.ZipInfo, key: str, path: str | Path, float64_copy: bool) -> MemberHeader:
    """The header of entry ``info`` (array ``key``), after every check of the module docstring."""
    _check_entry_size(npz, info, key, path)
    header = _read_header(npz, info, key, path)
    if header.dtype.hasobject:
        raise _format_error(f"{path}: array '{key}' holds Python objects, which are never unpickled; save numbers")
    if header.dtype.kind == "c":
        raise _format_error(f"{path}: array '{key}' holds complex numbers ({header.dtype}); Epoch Lab works with real numbers")
    if header.dtype.kind == "f" and header.dtype.itemsize > FLOAT64_BYTES:
        raise _format_error(f"{path}: array '{key}' holds {header.dtype.name} numbers; save float64 or float32")
    need = header.data_bytes + (header.count * FLOAT64_BYTES if float64_copy else 0)
    copy = ", and its float64 copy" if float64_copy else ""
    check_allocation(f"{path}: array '{key}' ({header.dtype} {header.shape}{copy})", need)
    expected = header.header_bytes + header.data_bytes
    if expected != info.file_size:
        raise _format_error(f"{path}: array '{key}' is truncated or damaged: shape {header.shape} needs {expected} bytes, "
                            f"the file holds {info.file_size}")
    return header


def read_member(npz: Any, key: str, path: str | Path, *, float64_copy: bool = False) -> np.ndarray:
    """Array ``key`` (any shape) of the open NpzFile ``npz`` of the file ``path``, read only
    after the checks of the module docstring, never unpickled. ``float64_copy``: the caller
    converts the array to float64, so that copy counts against the memory limit too.

    Raises:
        FileFormatError: no such array, Python objects, complex numbers, a damaged or
            truncated member.
        ResourceError: the member (decompressed, or as its header declares, plus the
            float64 copy when asked) needs more memory than is available.
    """
    info = _member_info(npz, key, path)
    _checked_header(npz, info, key, path, float64_copy)
    try:
        with npz.zip.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except READ_ERRORS as exc:
        raise _format_error(f"{path}: array '{key}' cannot be read ({reason(exc)})") from None
