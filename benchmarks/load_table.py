"""Load time of a large CSV through core.loaders (not a timed test).

Writes a 200,000 × 50 CSV (49 float features and an integer class, ~ 90 MB) to a
temporary folder, then times preview_file and load_file (with a progress callback), and
how quickly a cancel request stops a load. Run: ``.venv/bin/python benchmarks/load_table.py``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from core.loaders import LoadCancelled, load_file, preview_file


def write_csv(path: Path, rows: int, columns: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, columns - 1))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    header = ",".join([f"f{j}" for j in range(columns - 1)] + ["label"])
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + "\n")
        for start in range(0, rows, 10_000):
            block = np.column_stack([X[start : start + 10_000], y[start : start + 10_000]])
            np.savetxt(f, block, delimiter=",", fmt=["%.6f"] * (columns - 1) + ["%d"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        write_csv(path, args.rows, args.columns)
        print(f"{path.name}: {args.rows:,} rows × {args.columns} columns, {path.stat().st_size / 1e6:.1f} MB")
        start = time.perf_counter()
        preview = preview_file(path)
        print(f"preview_file: {time.perf_counter() - start:.3f} s ({preview.summary})")
        for _ in range(args.repeat):
            calls = []
            start = time.perf_counter()
            dataset = load_file(path, progress=lambda fraction, message, calls=calls: calls.append(fraction))
            print(f"load_file: {time.perf_counter() - start:.3f} s, {len(calls)} progress reports, {dataset.summary()}")
        cancel = threading.Event()
        start = time.perf_counter()

        def cancel_soon(fraction: float, message: str) -> None:
            if fraction > 0.2:
                cancel.set()

        try:
            load_file(path, progress=cancel_soon, cancel=cancel)
        except LoadCancelled:
            print(f"cancelled after {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
