"""Sort the HubSpot sandbox's request log into kinds and compare each with its floor.

The floor for a kind is ceil(items/100): HubSpot batches take at most 100 inputs, so no client
can write N objects (or N associations) of one kind in fewer calls.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_OBJECTS = re.compile(r"^/crm/(?:v3/objects|objects/\d{4}-\d{2})/([^/]+)(/.*)?$")
_ASSOC = re.compile(r"^/crm/v4/(?:associations|objects)/([^/]+)/([^/]+)/batch/([^/?]+)")
_ASSOC_SINGLE = re.compile(r"^/crm/v4/objects/([^/]+)/[^/]+/associations/")
_PROPS = re.compile(r"^/crm/v3/properties/")

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def pair(src: str, dst: str) -> str:
    """An association kind without direction (HubSpot stores both directions of one link)."""
    a, b = sorted((src, dst))
    return f"{a}<->{b}"


def classify(method: str, path: str) -> str:
    """A kind such as 'write invoices', 'assoc companies<->invoices', 'read', 'search', 'setup'."""
    path = path.split("?", 1)[0]
    if _PROPS.match(path):
        return "setup (properties)"
    match = _ASSOC.match(path)
    if match:
        src, dst, op = match.groups()
        if op in {"read"}:
            return f"read assoc {pair(src, dst)}"
        return f"assoc {pair(src, dst)}"
    if _ASSOC_SINGLE.match(path):
        return "assoc (single)"
    match = _OBJECTS.match(path)
    if match:
        object_type, rest = match.group(1), match.group(2) or ""
        if rest.startswith("/search"):
            return f"search {object_type}"
        if rest.endswith("/batch/read") or method == "GET":
            return f"read {object_type}"
        if method in WRITE_METHODS:
            return f"write {object_type}"
    return f"other {method}"


def calls_by_kind(requests: Iterable[object]) -> Counter:
    """Request counts per kind (429 answers counted separately under '429')."""
    counts: Counter = Counter()
    for req in requests:
        counts[classify(req.method, req.path)] += 1
        if req.status == 429:
            counts["429"] += 1
    return counts


def floors(object_counts: dict[str, int], association_counts: dict[str, int]) -> dict[str, int]:
    """ceil(n/100) per object kind ('write T') and association kind ('assoc A<->B')."""
    result = {f"write {t}": math.ceil(n / 100) for t, n in object_counts.items() if n}
    result.update({f"assoc {k}": math.ceil(n / 100) for k, n in association_counts.items() if n})
    return result


def hubspot_inventory(hs: object, object_types: Iterable[str]) -> tuple[dict, dict]:
    """Objects per type and associations per (from->to) pair currently held by the sandbox."""
    object_types = list(object_types)
    objects = {t: len(hs.objects(t)) for t in object_types}
    assocs: dict[str, int] = {}
    for i, src in enumerate(object_types):
        for dst in object_types[i + 1:]:
            try:
                n = len(hs.associations(src, dst))
            except (KeyError, ValueError):
                continue
            if n:
                assocs[pair(src, dst)] = n
    return objects, assocs
