"""Hostile sizes and file kinds: every size is checked before memory is taken, against the
limit core.limits derives from the machine's memory, and only regular files are read.

Each case is generated here: a small .npz whose header (or zip entry) declares a huge array,
a gzip IDX file declaring 10⁹ images, PNG headers declaring huge or missing pixels, 10¹⁰
synthetic samples, a 10⁹-unit network, a named pipe and /dev/zero as data. Each must give
one line of the project's own exception type saying what was asked and what is available.
Where the real machine's memory would make a case depend on the machine, the available
memory is pinned with the ``small_memory`` fixture.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import core.limits
from core.cli import main
from core.files import FileFormatError
from core.limits import ResourceError, format_bytes, memory_limit_bytes
from core.loaders import LoaderError, LoadOptions, detect_format, load_file, preview_file
from core.loaders.images import MAX_IMAGE_BYTES
from core.network import Network, activation_bytes
from core.npz_members import read_member
from core.synthetic import synthetic

ROOT = Path(__file__).resolve().parent.parent
SMALL_MEMORY = 64 << 20  # what small_memory says is free: the limit is then half, 32 MiB
TOO_LARGE = re.compile(r"needs [\d.,]+ \w+: too large, at most [\d.,]+ \w+ of memory is available")
WAIT_S = 10  # for a call that must not block; it returns at once when it works


@pytest.fixture
def small_memory(monkeypatch):
    """Pretend SMALL_MEMORY bytes are free, so the memory limit is the same on every machine."""
    monkeypatch.setattr(core.limits, "available_memory_bytes", lambda: SMALL_MEMORY)


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    return text


def asks(error: BaseException, nbytes: int) -> str:
    """The message, after checking it says it needs ``nbytes`` and how much is available."""
    text = one_line(error)
    assert TOO_LARGE.search(text), text
    assert f"needs {format_bytes(nbytes)}:" in text and f"at most {format_bytes(memory_limit_bytes())}" in text
    return text


# ----- NPZ -------------------------------------------------------------------------------------


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` of ``descr``, without the data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def declare_uncompressed_size(archive: bytes, size: int) -> bytes:
    """``archive`` (one deflated member) with its uncompressed size rewritten to ``size``
    in both the local header and the central directory, as a zip bomb declares it."""
    data = bytearray(archive)
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


LABELS = npy_bytes(np.array([0, 1] * 4))


def test_a_tiny_npz_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    rows = 10**12
    path = write(tmp_path / "huge.npz", zip_bytes({"X.npy": npy_header((rows, 1)) + bytes(64), "y.npy": LABELS}))
    assert path.stat().st_size < 2000
    for attempt in (load_file, preview_file):
        with pytest.raises(LoaderError) as info:
            attempt(path)
        text = asks(info.value, rows * 8 + rows * 8)  # the float64 array, and the loader's float64 copy
        assert text.startswith(f"{path}: array 'X' (float64 ({rows}, 1), and its float64 copy)")
    with np.load(path) as npz, pytest.raises(ResourceError) as info:  # the core API: ResourceError, not a file error
        read_member(npz, "X", path)
    asks(info.value, rows * 8)


def test_a_small_compressed_npz_that_holds_more_than_memory_allows(tmp_path, small_memory):
    rows = 3_000_000  # 24 MB of float64: under the 32 MiB limit, but not with the loader's float64 copy
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((rows, 1)), y=np.arange(rows) % 2)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(LoaderError) as info:
        load_file(path)
    asks(info.value, 2 * rows * 8)


def test_the_load_dialog_explains_an_npz_too_large_for_memory(qtbot, tmp_path, small_memory):
    pytest.importorskip("PySide6.QtWidgets")
    from app.data_loader import LoadDataDialog

    rows = 3_000_000
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((rows, 1)), y=np.arange(rows) % 2)
    dialog = LoadDataDialog()
    qtbot.addWidget(dialog)
    dialog.set_path(str(path))
    qtbot.waitUntil(lambda: "too large" in dialog.message.text(), timeout=10_000)
    assert str(path) in dialog.message.text() and not dialog.load_button.isEnabled()
    dialog.reject()


def test_a_zip_bomb_is_refused_before_decompressing(tmp_path, small_memory):
    archive = zip_bytes({"X.npy": npy_bytes(np.zeros((4, 2)))}, zipfile.ZIP_DEFLATED)
    path = write(tmp_path / "bomb.npz", declare_uncompressed_size(archive, 3 << 30))
    with np.load(path) as npz, pytest.raises(ResourceError) as info:
        read_member(npz, "X", path)
    assert one_line(info.value).startswith(f"{path}: array 'X' (its zip entry, decompressed)")
    asks(info.value, 3 << 30)


def test_complex_numbers_are_refused(tmp_path):
    path = tmp_path / "complex.npz"
    np.savez(path, X=np.ones((4, 2), np.complex128), y=np.arange(4) % 2)
    with pytest.raises(LoaderError, match=r"array 'X' holds complex numbers \(complex128\)"):
        load_file(path)
    with np.load(path) as npz, pytest.raises(FileFormatError, match="complex numbers"):
        read_member(npz, "X", path)


def test_valid_npz_arrays_read_as_before(tmp_path):
    path = tmp_path / "fine.npz"
    X, labels = np.arange(12, dtype=np.uint8).reshape(3, 2, 2), np.array([0, 1, 0])
    np.savez_compressed(path, X=X, y=labels, spec=np.array('{"a": 1}'))
    with np.load(path) as npz:
        assert np.array_equal(read_member(npz, "X", path, float64_copy=True), X)
        assert str(read_member(npz, "spec", path)) == '{"a": 1}'
    assert load_file(path).X.max() == pytest.approx(11 / 255)


# ----- IDX -------------------------------------------------------------------------------------


def idx_header(shape: tuple[int, ...], code: int = 0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_a_gzip_idx_declaring_a_billion_images_is_refused_before_reading(tmp_path):
    shape = (10**9, 28, 28)
    path = write(tmp_path / "huge-images-idx3-ubyte.gz", gzip.compress(idx_header(shape) + bytes(1000)))
    values = math.prod(shape)
    for attempt in (load_file, preview_file):
        with pytest.raises(LoaderError) as info:
            attempt(path)
        asks(info.value, values + values * 8)  # the uint8 values and their float64 copy
        assert str(path) in str(info.value) and "1000000000 × 28 × 28" in str(info.value)


def test_a_gzip_idx_shorter_than_its_header_says_is_refused_without_taking_the_memory(tmp_path):
    shape = (100_000, 28, 28)  # 78 MB promised, 1 KB there: fits the memory limit, so the length decides
    path = write(tmp_path / "short-images-idx3-ubyte.gz", gzip.compress(idx_header(shape) + bytes(1000)))
    tracemalloc.start()
    try:
        with pytest.raises(LoaderError, match=f"truncated data: shape 100000 × 28 × 28 needs {math.prod(shape)} bytes "
                                              "after the header, found 1000"):
            load_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_a_gzip_idx_of_several_members_still_loads(tmp_path):
    images = np.arange(4 * 3 * 2, dtype=np.uint8).reshape(4, 3, 2)
    content = idx_header(images.shape) + images.tobytes()
    path = write(tmp_path / "multi-images-idx3-ubyte.gz", gzip.compress(content[:10]) + gzip.compress(content[10:]))
    write(tmp_path / "multi-labels-idx1-ubyte", idx_header((4,)) + bytes([0, 1, 0, 1]))
    dataset = load_file(path)
    assert dataset.X.shape == (4, 6) and dataset.X[3, 5] == pytest.approx(23 / 255)


def test_a_big_endian_idx_reads_in_native_order(tmp_path):
    values = np.array([[1, -2], [300, 4]], dtype=">i2")
    path = write(tmp_path / "be-images-idx3-ubyte", idx_header((2, 1, 2), 0x0B) + values.tobytes())
    write(tmp_path / "be-labels-idx1-ubyte", idx_header((2,)) + bytes([0, 1]))
    assert load_file(path).X.tolist() == [[1.0, -2.0], [300.0, 4.0]]


# ----- images ----------------------------------------------------------------------------------


def png_bytes(width: int, height: int, rows: bytes | None = None) -> bytes:
    """A grey 8-bit PNG declaring ``width`` × ``height``; ``rows``: its compressed pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = rows if rows is not None else zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def test_a_png_declaring_huge_pixels_is_refused_before_decoding(tmp_path):
    pytest.importorskip("PySide6.QtGui")
    from app.image_reader import read_image

    path = write(tmp_path / "huge.png", png_bytes(100_000, 100_000, zlib.compress(bytes(100))))
    with pytest.raises(LoaderError) as info:
        read_image(path, None, True)
    assert one_line(info.value) == (f"{path}: an image of 100,000×100,000 pixels needs {format_bytes(4 * 10**10)} decoded: "
                                    f"too large, at most {format_bytes(MAX_IMAGE_BYTES)} per image")
    good = write(tmp_path / "good.png", png_bytes(4, 3))
    with pytest.raises(LoaderError, match="an image of 100,000×100,000 pixels"):  # asked for as the size to resize to
        read_image(good, (100_000, 100_000), True)
    assert read_image(good, None, True).shape == (3, 4)


def test_a_folder_of_images_too_large_for_memory_is_refused_before_allocating(tmp_path, small_memory):
    for name in ("a", "b"):
        (tmp_path / "big" / name).mkdir(parents=True)
        for i in range(2):
            write(tmp_path / "big" / name / f"{i}.png", b"fake")

    def reader(path, size, grey):
        return np.zeros((1000, 1000), np.uint8)

    with pytest.raises(LoaderError) as info:
        load_file(tmp_path / "big", read_image=reader)
    assert one_line(info.value).startswith(f"{tmp_path / 'big'}: 4 images of 1000×1000 (uint8, then float64)")
    asks(info.value, 4 * 1000 * 1000 * 9)


BROKEN_IMAGES = {
    "short.png": png_bytes(64, 64)[:60],  # IHDR, then the file ends
    "crc.png": png_bytes(4, 3)[:-16] + b"\x00\x00\x00\x00" + png_bytes(4, 3)[-12:],  # IDAT's checksum wrong
    "filter.png": png_bytes(4, 3, zlib.compress(b"\x07" * 15)),  # a row filter that does not exist
    "zlib.png": png_bytes(4, 3, b"not zlib data"),
    "huge.png": png_bytes(100_000, 100_000, zlib.compress(bytes(100))),
    "short.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
}
DECODE_ALL = """
import sys
from pathlib import Path
from app.image_reader import read_image
from core.loaders import LoaderError
for path in sorted(Path(sys.argv[1]).iterdir()):
    try:
        read_image(path, None, True)
        print(path.name, "read")
    except LoaderError as exc:
        print(path.name, "refused:", exc)
"""


def test_broken_images_are_one_clear_error_and_decoders_stay_off_stderr(tmp_path, child_env):
    pytest.importorskip("PySide6.QtGui")
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, content in BROKEN_IMAGES.items():
        write(folder / name, content)
    done = subprocess.run([sys.executable, "-c", DECODE_ALL, str(folder)], cwd=ROOT, env=child_env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(lines) == set(BROKEN_IMAGES)
    for name, outcome in lines.items():
        assert outcome.startswith(f"refused: {folder / name}: "), outcome
    assert "libpng" not in done.stderr and "qt.gui.imageio" not in done.stderr and "QImageIOHandler" not in done.stderr


def test_other_output_during_a_decode_still_reaches_stderr(capfd):
    pytest.importorskip("PySide6.QtCore")
    from app.image_reader import _quiet_decoders

    with _quiet_decoders():
        os.write(2, b"libpng error: IDAT: CRC error\nsomething else to say\nlibpng warning: iCCP: too short\n")
    assert capfd.readouterr().err == "something else to say\n"


# ----- synthetic samples and networks ----------------------------------------------------------


def test_ten_billion_samples_are_refused_before_generating():
    with pytest.raises(ResourceError) as info:
        synthetic("spiral", samples=10_000_000_000)
    assert one_line(info.value).startswith("generating 10,000,000,000 samples needs")
    assert TOO_LARGE.search(str(info.value))


@pytest.mark.parametrize("samples", [2.5, True, "500", 3, -1])
def test_samples_must_be_a_whole_number_of_at_least_four(samples):
    with pytest.raises(ValueError, match="samples"):
        synthetic("xor", samples=samples)
    assert synthetic("xor", samples=40.0).n_samples == 40


def test_main_py_refuses_ten_billion_samples_with_one_line(child_env):
    done = subprocess.run([sys.executable, "main.py", "train", "--samples", "10000000000", "--epochs", "1"], cwd=ROOT,
                          env=child_env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "10,000,000,000 samples" in done.stderr and TOO_LARGE.search(done.stderr)


def test_a_network_of_a_billion_units_is_refused_before_allocating():
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 10**9, "activation": "tanh"},
                                           {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    with pytest.raises(ResourceError) as info:
        Network(spec)
    assert one_line(info.value).startswith("a network of 4,000,000,001 parameters (float32")
    assert TOO_LARGE.search(str(info.value))


def test_activation_bytes_of_one_batch():
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dropout", "rate": 0.1},
                                           {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    # per sample: the input 2; dense 2·8 + 2; dropout 2·8 + 8; dense 2·1 + 8 — float32
    assert activation_bytes(Network(spec), 16) == 16 * (2 + 18 + 24 + 10) * 4


# ----- file kinds ------------------------------------------------------------------------------


def finishes(call, fifo: Path | None = None) -> BaseException | None:
    """What ``call()`` raised (None if nothing), failing if it is still running after WAIT_S;
    a call stuck opening ``fifo`` is released by opening its other end."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT_S)
    if thread.is_alive() and fifo is not None:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(WAIT_S)
    assert outcome, "still blocked"
    return outcome[0]


@pytest.mark.parametrize("entry", [detect_format, preview_file, load_file])
def test_a_named_pipe_is_refused_without_opening_it(tmp_path, entry):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    error = finishes(lambda: entry(fifo), fifo)
    assert isinstance(error, LoaderError) and one_line(error) == f"{fifo}: is a named pipe; only regular files are read"


@pytest.mark.parametrize("entry", [detect_format, preview_file, load_file])
def test_dev_zero_is_refused_without_reading_it(entry):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    error = finishes(lambda: entry("/dev/zero"))
    assert isinstance(error, LoaderError) and one_line(error) == "/dev/zero: is a device; only regular files are read"


def test_a_labels_file_that_is_a_device_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    images = write(tmp_path / "x-images-idx3-ubyte", idx_header((2, 1, 1)) + bytes(2))
    error = finishes(lambda: load_file(images, LoadOptions(labels="/dev/zero")))
    assert isinstance(error, LoaderError) and "/dev/zero: is a device" in one_line(error)


def test_a_named_pipe_as_data_on_the_command_line(tmp_path, capsys, child_env):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert finishes(lambda: main(["data", str(fifo)]), fifo) is None
    assert capsys.readouterr().err == f"error: {fifo}: is a named pipe; only regular files are read\n"
    try:
        done = subprocess.run([sys.executable, "main.py", "train", "--data", str(fifo), "--epochs", "1"], cwd=ROOT,
                              env=child_env, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        raise
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {fifo}: is a named pipe; only regular files are read\n"
