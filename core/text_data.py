"""Text as token data: characters as ids, and the ``chars`` task (next-character prediction).

The shipped text is the opening of Shakespeare's Coriolanus (public domain), in
``resources/datasets/shakespeare.txt.gz`` with its metadata in ``shakespeare.json``. A
text's vocabulary is the sorted set of its characters (by code point): id k is the
character ``vocabulary[k]``.

:func:`chars` draws windows of T characters from random starts (seeded): X (m, T) holds the
ids of the window as floats (sample_shape (T,)), y (m,) the id of the character that follows
it, a class of the V characters of the vocabulary (declared, so every character is a class
even when no window ends before it). ``meta["tokens"]`` is V and ``meta["vocabulary"]`` the
V characters in id order; the class names are printable (:func:`char_name`).
"""

from __future__ import annotations

import gzip
import json
from functools import cache

import numpy as np

from .data import DataError, Dataset, make_dataset
from .sequences import step_names

TEXT_NAME = "shakespeare"  # resources/datasets/TEXT_NAME.txt.gz and TEXT_NAME.json
SHOWN = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}  # characters a label cannot show as themselves


def _datasets_dir():
    from .realdata import datasets_dir  # imported here: core.realdata imports core.synthetic, which imports this module

    return datasets_dir()


@cache
def shipped_text() -> str:
    """The shipped text (31,965 characters); DataError when resources/ is missing or damaged."""
    path = _datasets_dir() / f"{TEXT_NAME}.txt.gz"
    try:
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: the built-in text cannot be read ({exc}); is resources/ installed?") from None


@cache
def text_metadata() -> dict:
    """The shipped text's metadata (title, creators, source, license, changes, citation)."""
    path = _datasets_dir() / f"{TEXT_NAME}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: the built-in text's metadata cannot be read ({exc})") from None


def char_name(ch: str) -> str:
    """A printable name of one character: itself, or ␣ (space), ⏎ (line break), ⇥ (tab), U+XXXX."""
    if ch in SHOWN:
        return SHOWN[ch]
    return ch if ch.isprintable() else f"U+{ord(ch):04X}"


def vocabulary(text: str) -> str:
    """The characters of ``text``, each once, sorted by code point."""
    return "".join(sorted(set(text)))


def encode(text: str, vocab: str) -> np.ndarray:
    """The ids (len(text),) int64 of ``text``'s characters in ``vocab`` (a sorted vocabulary
    holding every one of them)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.searchsorted(np.frombuffer(vocab.encode("utf-32-le"), dtype=np.uint32), codes).astype(np.int64)


def decode(ids: np.ndarray, vocab: str) -> str:
    """The text of ``ids`` (any shape, whole numbers, floats too) in ``vocab``."""
    return "".join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def attribution() -> str:
    """One line crediting the shipped text."""
    meta = text_metadata()
    return f"{meta['title']} — {', '.join(meta['creators'])}. {meta['source']}. License: {meta['license']}."


def chars(samples: int = 3000, steps: int = 32, seed: int = 0, text: str | None = None) -> Dataset:
    """``samples`` windows of ``steps`` characters of ``text`` (default: the shipped one) and
    the character after each (see the module docstring). ValueError when the text has no
    window of that length followed by a character."""
    text = shipped_text() if text is None else text
    if steps < 1 or steps >= len(text):
        raise ValueError(f"chars needs windows of 1 to {len(text) - 1:,} characters (the text has {len(text):,}), got steps = {steps}")
    vocab = vocabulary(text)
    ids = encode(text, vocab)
    starts = np.random.default_rng(seed).integers(0, len(text) - steps, samples)
    X = ids[starts[:, None] + np.arange(steps)].astype(np.float64)
    meta = {"tokens": len(vocab), "vocabulary": vocab}
    if text is shipped_text():
        meta |= {"title": text_metadata()["title"], "attribution": attribution()}
    return make_dataset(X, ids[starts + steps], name="chars", feature_names=step_names(steps, 1),
                        classes=tuple(char_name(ch) for ch in vocab), sample_shape=(steps,), meta=meta)
