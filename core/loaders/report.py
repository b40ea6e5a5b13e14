"""What a loaded Dataset holds, as lines of text (the CLI's ``data`` command, the panel's summary)."""

from __future__ import annotations

import numpy as np

from ..data import Dataset

NAMES_SHOWN = 8


def _names(names: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f", … ({len(names)} in all)" if len(names) > NAMES_SHOWN else "")


def describe_dataset(dataset: Dataset) -> list[str]:
    """Rows, features, task, classes (with counts) or target range, missing values,
    image shape, sequence shape, token ids, forecasting, and where the data come from."""
    meta = dataset.meta
    lines = []
    if "source" in meta:
        how = f" ({meta['dialect']})" if "dialect" in meta else ""
        lines.append(f"source: {meta['source']} [{meta.get('format', '?')}]{how}")
    if "title" in meta:
        lines.append(f"dataset: {meta['title']}")
    read = meta.get("rows_read")
    if "series" in meta:
        left_out = meta["series"].get("left_out", 0)
        gaps = f"; {left_out:,} left out that would cross a row dropped" if left_out else ""
        lines.append(f"windows: {dataset.n_samples:,}, of consecutive rows of the {read:,} read{gaps}")
    else:
        lines.append(f"rows: {dataset.n_samples:,}" + (f" used of {read:,} read" if read is not None and read != dataset.n_samples else ""))
    lines.append(f"features: {dataset.n_features} ({_names(dataset.feature_names)})")
    if dataset.is_image:
        height, width, channels = dataset.sample_shape
        scaled = ", scaled to [0, 1] (uint8 / 255)" if meta.get("pixels_scaled") else ""
        lines.append(f"images: {' × '.join(map(str, (height, width) if channels == 1 else dataset.sample_shape))} pixels{scaled}")
    if dataset.is_sequence:
        steps, features = dataset.sample_shape
        lines.append(f"sequences: {steps} steps × {features} feature{'s' if features != 1 else ''} a sample")
    if "tokens" in meta:
        lines.append(f"token ids: {dataset.n_features} a sample, whole numbers 0 … {meta['tokens'] - 1} ({meta['tokens']:,} tokens)")
    if "forecast" in meta:
        horizon = meta["forecast"]["horizon"]
        outside = ", a column not among the inputs" if meta["forecast"].get("feature", 0) is None else ""
        lines.append(f"forecast: the target is the value {horizon} step{'s' if horizon != 1 else ''} after each window{outside}")
    target = f", target column {meta['target']!r}" if "target" in meta else ""
    if dataset.task == "regression":
        lines.append(f"task: regression{target}, {dataset.y.shape[1]} output(s), range {dataset.y.min():.4g} … {dataset.y.max():.4g}")
    else:
        kind = "binary classification" if dataset.task == "binary" else f"{len(dataset.class_names)}-class classification"
        lines.append(f"task: {kind}{target}")
        counts = np.bincount(dataset.y, minlength=len(dataset.class_names))
        lines.append("classes: " + ", ".join(f"{i}={name} ({n:,})" for i, (name, n) in enumerate(zip(dataset.class_names, counts, strict=True))))
    lines.append(f"missing values: {meta.get('missing_summary', 'none')}")
    ignored = [c["name"] for c in meta.get("columns", []) if c["role"] == "ignore"]
    if ignored:
        lines.append(f"ignored columns: {_names(ignored)}")
    if meta.get("scaling", {}).get("method", "none") != "none":
        lines.append(f"scaling: {meta['scaling']['method']}")
    if "attribution" in meta:
        lines.append(f"attribution: {meta['attribution']}")
    return lines
