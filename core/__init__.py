"""Epoch Lab's numerical engine: networks, training and data, with no Qt imports.

Arrays are stored samples-first: a batch ``X`` has shape (m, n) for m samples of n
features. A dense layer's weight keeps the course's shape ``W`` (n[l], n[l-1]).
"""
