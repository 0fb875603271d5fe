"""Argument checks shared by the stores and the bot. Strictly private."""

from __future__ import annotations

import math

from ..errors import InvalidArgumentError

__all__ = ["positive_seconds"]


def positive_seconds(value: object, name: str) -> float:
    """A finite number of seconds above zero, as a float.

    Raises:
        TypeError: Not a number (a bool is not one).
        InvalidArgumentError: Zero, negative, infinite or NaN.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds, got {type(value).__name__}"
        raise TypeError(msg)
    if not value > 0 or math.isinf(value):
        msg = f"{name} must be a finite number > 0, got {value}"
        raise InvalidArgumentError(msg)
    return float(value)
