"""A small HubSpot CRM client: one `requests` session, the shared rate limiter, typed errors.

Why not hubspot-api-client: the target needs the raw 207 multi-status answers (per-input
failures by `objectWriteTraceId`), HubSpot's error bodies for the dead-letter, the rate-limit
headers after every answer, and one place that retries. The client sends only what the sinks ask;
every call is counted (`calls`) so frugality is measured, not guessed.

The token lives only in the session's Authorization header: no message, exception or log line
built here contains it.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import backoff
import requests

from target_hubspot_finance.hubspot.errors import (
    FatalHubSpotError,
    HubSpotError,
    NotJsonError,
    RateLimitedError,
    RetryableError,
    missing_property_names,
)
from target_hubspot_finance.hubspot.isolate import budget_for, isolate
from target_hubspot_finance.hubspot.rate_limit import RateLimiter

LOGGER = logging.getLogger("target_hubspot_finance.hubspot")
BATCH_LIMIT = 100
_RETRY_STATUSES = {423, 429, 500, 502, 503, 504}


@dataclass
class BatchResult:
    """What one batch call did: results by trace id (or position key) and failures by trace id."""

    results: dict[str, dict] = field(default_factory=dict)
    errors: dict[str, dict] = field(default_factory=dict)
    untraced_errors: list[dict] = field(default_factory=list)


def chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size` (HubSpot's batch limit is 100 inputs)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class HubSpotClient:
    """HubSpot CRM calls with rate limiting, retries (exponential backoff, full jitter)."""

    def __init__(self, base_url: str, token: str, limiter: RateLimiter, *,
                 timeout: float = 30.0, max_retries: int = 5, backoff_base: float = 1.0,
                 backoff_max: float = 30.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}",
                                     "Content-Type": "application/json",
                                     "User-Agent": "target-hubspot-finance"})
        self.calls: Counter[str] = Counter()
        self.on_call: Callable[[int], None] | None = None  # e.g. the progress line
        # Called with (object type, property names) when a batch fails because the portal
        # lacks properties; True means they were repaired and the batch is sent once more.
        self.on_missing_properties: Callable[[str, set[str]], bool] | None = None
        self.retries = 0
        self.rate_limited = 0
        self._send = backoff.on_exception(
            backoff.expo, RetryableError, max_tries=max(1, max_retries + 1),
            jitter=backoff.full_jitter, factor=backoff_base, max_value=backoff_max,
            on_backoff=self._log_backoff, logger=None)(self._send_once)

    # -- transport -----------------------------------------------------------------------
    def _log_backoff(self, details: dict) -> None:
        self.retries += 1
        exc = details.get("exception")
        LOGGER.warning("HubSpot call retried in %.1fs (attempt %d): %s", details.get("wait", 0),
                       details.get("tries", 0), exc)

    def _send_once(self, method: str, path: str, body: Any, params: dict | None) -> Any:
        slot = self.limiter.acquire()
        try:
            resp = self.session.request(method, self.base_url + path, json=body, params=params,
                                        timeout=self.timeout)
        except requests.Timeout as exc:
            raise RetryableError(0, f"timed out after {self.timeout}s", method, path) from exc
        except requests.ConnectionError as exc:
            raise RetryableError(0, f"connection to {self.base_url} failed "
                                    f"({type(exc).__name__})", method, path) from exc
        finally:
            self.limiter.release(slot)
        self.limiter.observe(resp.headers)
        if resp.status_code < 300 or resp.status_code == 207:
            if resp.status_code == 204 or not resp.content:
                return None
            try:
                return resp.json()
            except ValueError:  # a proxy's page: nothing to trust, one line (errors.py)
                raise NotJsonError(resp.status_code, resp.text, method, path) from None
        try:
            payload: Any = resp.json()
        except ValueError:
            payload = resp.text[:500]
        if resp.status_code == 429:
            self.rate_limited += 1
            raise RateLimitedError(429, payload, method, path)
        if resp.status_code in _RETRY_STATUSES:
            raise RetryableError(resp.status_code, payload, method, path)
        if resp.status_code in (401, 403):
            raise FatalHubSpotError(resp.status_code, payload, method, path)
        raise HubSpotError(resp.status_code, payload, method, path)

    def request(self, method: str, path: str, body: Any = None, params: dict | None = None,
                kind: str | None = None) -> Any:
        """One call (retried when HubSpot or the network says so); `kind` names it in `calls`."""
        self.calls[kind or f"{method} {path}"] += 1
        answer = self._send(method, path, body, params)
        if self.on_call is not None:
            self.on_call(sum(self.calls.values()))
        return answer

    # -- objects --------------------------------------------------------------------------
    def batch(self, object_type: str, op: str, inputs: list[dict],
              id_property: str | None = None, properties: Sequence[str] = ()) -> BatchResult:
        """One batch call (create/update/upsert/read) of at most 100 inputs.

        Write inputs must each carry `objectWriteTraceId`: HubSpot then writes the valid ones
        and lists the invalid ones (207), so one bad record never sinks its 99 neighbours.
        A whole-batch failure (400 not per input) is returned as `untraced_errors`. When the
        failure says the portal lacks a property and `on_missing_properties` repairs it, the
        inputs HubSpot did not write are sent once more (one extra call).
        """
        if len(inputs) > BATCH_LIMIT:
            raise ValueError(f"a HubSpot batch takes at most {BATCH_LIMIT} inputs")
        out = self._batch_once(object_type, op, inputs, id_property, properties)
        if self.on_missing_properties is None:
            return out
        names = {n for e in [*out.errors.values(), *out.untraced_errors]
                 for n in missing_property_names(e)}
        if not names or not self.on_missing_properties(object_type, names):
            return out
        # Send again only what HubSpot did not write: a second create of a written input
        # would duplicate it. Reads carry no trace id and write nothing: all are sent again.
        again = inputs if op == "read" else [
            i for i in inputs if str(i.get("objectWriteTraceId")) not in out.results]
        retry = self._batch_once(object_type, op, again, id_property, properties)
        for item in again:
            out.errors.pop(str(item.get("objectWriteTraceId")), None)
        out.results.update(retry.results)
        out.errors.update(retry.errors)
        out.untraced_errors = [e for e in out.untraced_errors if not missing_property_names(e)]
        out.untraced_errors += retry.untraced_errors
        return out

    def _batch_once(self, object_type: str, op: str, inputs: list[dict],
                    id_property: str | None, properties: Sequence[str]) -> BatchResult:
        out = BatchResult()
        if not inputs:
            return out
        body: dict[str, Any] = {"inputs": inputs}
        if op == "read":
            body["properties"] = list(properties)
            if id_property:
                body["idProperty"] = id_property
        path = f"/crm/v3/objects/{object_type}/batch/{op}"
        try:
            answer = self.request("POST", path, body, kind=f"{object_type}.{op}") or {}
        except FatalHubSpotError:
            raise
        except HubSpotError as exc:
            if isinstance(exc, RetryableError):
                raise
            out.untraced_errors.append(exc.as_json())
            return out
        for item in answer.get("results") or []:
            trace = item.get("objectWriteTraceId")
            if trace is None and op == "read":
                key = (item.get("properties") or {}).get(id_property) if id_property else None
                trace = str(key if key is not None else item.get("id"))
            out.results[str(trace if trace is not None else item.get("id"))] = item
        for err in answer.get("errors") or []:
            traces = (err.get("context") or {}).get("objectWriteTraceId") or []
            if traces:
                for trace in traces:
                    out.errors[str(trace)] = err
            else:
                out.untraced_errors.append(err)
        return out

    # -- associations ---------------------------------------------------------------------
    def associate_default(self, from_type: str, to_type: str,
                          pairs: Sequence[tuple[str, str]]) -> list[dict]:
        """Default (unlabelled) associations, 100 pairs a call; returns HubSpot's failures."""
        failures: list[dict] = []
        for chunk in chunks(list(dict.fromkeys(pairs))):
            failures += self._associate_chunk(from_type, to_type, list(chunk))
        return failures

    def _associate_chunk(self, from_type: str, to_type: str,
                         chunk: list[tuple[str, str]]) -> list[dict]:
        """One call; when HubSpot fails the whole call (4xx: whether one refused pair does so
        is undocumented) the chunk is split until the refused pairs are alone (isolate.py), so
        their neighbours are still linked: one bad pair in 100 costs at most 15 calls, two at
        most 27, k of them nets 2k - 1 failed calls. Until a part goes through the calls are
        bounded (`isolate.budget_for`, 29 for 100 pairs): a call refusing every pair costs 29
        calls, not 199, and its pairs are refused together with HubSpot's answer (replayable);
        once one goes through, every good pair is linked in this run. A whole-call
        failure links nothing, and default associations are idempotent, so sending a pair
        again cannot duplicate."""
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default"

        def send(pairs: list[tuple[str, str]]) -> tuple[list[dict], Any]:
            inputs = [{"from": {"id": str(a)}, "to": {"id": str(b)}} for a, b in pairs]
            try:
                answer = self.request("POST", path, {"inputs": inputs},
                                      kind=f"assoc.{from_type}->{to_type}") or {}
            except (FatalHubSpotError, RetryableError):
                raise
            except HubSpotError as exc:
                return [], exc.as_json()
            return list(answer.get("errors") or []), None

        def refuse(pairs: list[tuple[str, str]], error: dict, _sent: Any) -> list[dict]:
            return [{"pairs": [list(p) for p in pairs], **error}]

        return isolate(chunk, send, refuse, lambda parts: [e for part in parts for e in part],
                       budget=budget_for(len(chunk)))

    # -- properties -----------------------------------------------------------------------
    def get_properties(self, object_type: str) -> list[dict]:
        answer = self.request("GET", f"/crm/v3/properties/{object_type}",
                              kind=f"properties.{object_type}.read") or {}
        return list(answer.get("results") or [])

    def get_groups(self, object_type: str) -> list[dict]:
        answer = self.request("GET", f"/crm/v3/properties/{object_type}/groups",
                              kind=f"groups.{object_type}.read") or {}
        return list(answer.get("results") or [])

    def create_group(self, object_type: str, name: str, label: str) -> None:
        self.request("POST", f"/crm/v3/properties/{object_type}/groups",
                     {"name": name, "label": label, "displayOrder": -1},
                     kind=f"groups.{object_type}.create")

    def create_properties(self, object_type: str, definitions: list[dict]) -> None:
        for chunk in chunks(definitions):
            self.request("POST", f"/crm/v3/properties/{object_type}/batch/create",
                         {"inputs": list(chunk)}, kind=f"properties.{object_type}.create")


def new_trace_id() -> str:
    """A fresh objectWriteTraceId (unique per input per call)."""
    return uuid.uuid4().hex
