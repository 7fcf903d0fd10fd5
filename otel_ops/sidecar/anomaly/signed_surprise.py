"""Robust z-score of a forecast error, restricted to the direction that matters."""

from __future__ import annotations

from typing import Literal


def signed_surprise(error: float, sigma: float, direction: Literal["both", "up", "down"]) -> float:
    """``|error| / sigma`` for ``both``; otherwise only positive (``up``) or negative (``down``) errors."""
    if direction == "up":
        return max(error, 0.0) / sigma
    if direction == "down":
        return max(-error, 0.0) / sigma
    return abs(error) / sigma
