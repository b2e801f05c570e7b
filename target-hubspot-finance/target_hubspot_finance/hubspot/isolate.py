"""Finding the refused inputs of a call HubSpot failed as a whole, so their neighbours still go.

Why one place: a batch write failed whole by a 409 (batches._send) and a batch associate call
failed whole by a 4xx (client.associate_default) are the same problem. Nothing of a failed call
was written, so its inputs can be sent again in parts without duplicating anything: the input
the error names is refused alone and the rest sent again (one call), otherwise the group is
halved until each refused input is alone (one bad input in 100: at most 1 + 2·ceil(log2 100) =
15 calls). Halving every input of a call that refuses them all costs 2n - 1 calls (199 for
100), so a caller may give a `budget`: the calls allowed while none has gone through. Once a
part goes through, the refusal is about some inputs, not the call, and the split runs to the
end (every good input sent, in one run: a replay of good inputs refused with bad ones would
meet the same budget again and never converge); a call refusing everything stops after
`budget` calls and its inputs are refused whole with its error (they can be replayed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def budget_for(size: int) -> int:
    """Calls allowed for one group of `size` before one goes through: 4·ceil(log2 size) + 1
    (29 for 100). Depth first, a part with no refused input goes through within about
    log2(size) + 1 calls unless nearly every input is refused."""
    return 4 * math.ceil(math.log2(size)) + 1 if size > 1 else 1


def isolate(items: Sequence[T], send: Callable[[list[T]], tuple[R, Any]],
            refuse: Callable[[list[T], Any, R | None], R], merge: Callable[[list[R]], R],
            named: Callable[[list[T], Any], T | None] | None = None,
            budget: int | None = None) -> R:
    """Send `items`; when the call fails whole, find the refused ones by sending parts.

    `send(group)` → (result, None) or (result, whole-call error); `refuse(group, error, result)`
    → the result for a group refused whole (`result`: that very call's, when the group was sent
    alone); `merge` joins results; `named(group, error)` → the one input the error names, if
    any; `budget`: most calls while none has gone through (None: no bound). Parts go in input
    order, first half first (depth first), as a recursion would send them.
    """
    results: list[R] = []
    stack: list[tuple[list[T], Any]] = [(list(items), None)]
    calls, through = 0, False
    while stack:
        group, covering = stack.pop()
        if budget is not None and not through and calls >= budget and covering is not None:
            results.append(refuse(group, covering, None))
            continue
        result, error = send(group)
        calls += 1
        through = through or error is None
        if error is None:
            results.append(result)
        elif len(group) == 1:
            results.append(refuse(group, error, result))
        elif (culprit := named(group, error) if named else None) is not None:
            results.append(refuse([culprit], error, None))
            stack.append(([i for i in group if i is not culprit], error))
        else:
            half = len(group) // 2
            stack += [(group[half:], error), (group[:half], error)]
    return merge(results)
