"""How deeply a JSON value nests, measured without recursion (so no input can exhaust the stack)."""

from __future__ import annotations

from typing import Any


def nesting_depth(value: Any, stop_above: int | None = None) -> int:
    """Levels of objects and arrays in ``value`` (a scalar is 0, ``{}`` and ``[1]`` are 1).

    With ``stop_above``, counting stops once the depth exceeds it (the result is then ``stop_above + 1``).
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if stop_above is not None and deepest > stop_above:
            return deepest
        pending.extend((child, depth) for child in children)
    return deepest
