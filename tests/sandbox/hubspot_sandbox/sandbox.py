"""HubSpotSandbox: the public face (docs/CONTRACTS.md, "HubSpot sandbox")."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from .catalog import ObjectType
from .client import SandboxClient
from .errors import ApiError
from .faults import Fault, FaultPlan
from .ratelimit import RateLimiter
from .routes import Router
from .server import RequestRecord, serve
from .store import Portal, Switches
from .values import as_string, iso_ms

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
_READ_SUFFIXES = ("/batch/read", "/search")


class HubSpotSandbox:
    """A HubSpot API double on 127.0.0.1 (random port unless `port` is given).

    `window_seconds` shortens the rolling rate-limit window for fast tests; `search_lag` makes
    records younger than that many seconds invisible to search, as HubSpot's index lags writes;
    `shuffle_results` (seeded by `seed`) returns batch results out of input order, as HubSpot does.
    The keyword-only switches model what HubSpot leaves undocumented (README.md, "Switches"):
    the account's currencies (`company_currency`, `currencies`: None = every sandbox currency)
    and `unset_currency`, `open_on_create`, `paid_settable`, `payment_custom_properties`.
    """

    def __init__(self, token: str = "pat-sandbox-0000-test-token-do-not-log",  # noqa: S107
                 portal_id: int = 12345678, rate_limit_per_10s: int = 190,
                 daily_limit: int = 650_000, search_per_second: int = 5,
                 scopes: set[str] | None = None, payments_enabled: bool = True,
                 window_seconds: float = 10.0, search_lag: float = 0.0,
                 shuffle_results: bool = True, seed: int = 0,
                 host: str = "127.0.0.1", port: int = 0, *,
                 company_currency: str = "USD", currencies: tuple[str, ...] | None = None,
                 unset_currency: str = "refuse", open_on_create: bool = True,
                 paid_settable: bool = True, payment_custom_properties: bool = True) -> None:
        self.token = token
        self.portal_id = portal_id
        self.scopes = set(scopes) if scopes is not None else None
        self.payments_enabled = payments_enabled
        self._host, self._port = host, port
        if unset_currency not in ("refuse", "accept"):
            raise ValueError("unset_currency is 'refuse' or 'accept'")
        self._portal = Portal(portal_id, payments_enabled, shuffle_results, seed,
                              company_currency, currencies,
                              Switches(open_on_create, paid_settable, payment_custom_properties,
                                       unset_currency))
        self._limiter = RateLimiter(rate_limit_per_10s, daily_limit, search_per_second,
                                    window_seconds)
        self._faults = FaultPlan()
        self._router = Router(self._portal, self.scopes, search_lag)
        self._requests: list[RequestRecord] = []
        self._callbacks: list[Callable[[HubSpotSandbox, RequestRecord], None]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> HubSpotSandbox:
        if self._server is None:
            self._stopping.clear()
            self._server, self._thread = serve(self, self._host, self._port)
        return self

    def stop(self) -> None:
        """Stop listening and cut open connections; data, log and faults stay."""
        if self._server is not None:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._port = self._server.server_address[1]
            self._server = None

    def restart(self) -> None:
        """Go down and come back on the same port with the same data (an outage)."""
        self.stop()
        self.start()

    def __enter__(self) -> HubSpotSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: use `with HubSpotSandbox() as hs:`")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def client(self, token: str | None = None, timeout: float = 10.0) -> SandboxClient:
        """An HTTP client for this sandbox, authorised with its token unless another is given."""
        return SandboxClient(self.url, self.token if token is None else token, timeout)

    # ---- inspection ---------------------------------------------------------------------------
    def _type(self, raw: str) -> ObjectType:
        """Resolve a type for the inspection API; unknown (or disabled) types raise ValueError."""
        try:
            return self._portal.object_type(raw)
        except ApiError as err:
            raise ValueError(err.message) from None

    def objects(self, object_type: str, archived: bool = False) -> list[dict]:
        """Every stored record of a type, all properties, in creation order."""
        otype = self._type(object_type)
        with self._portal.lock:
            records = self._portal.types[otype.name].records.values()
            return [{"id": str(r.id), "properties": dict(r.properties),
                     "createdAt": iso_ms(r.created), "updatedAt": iso_ms(r.updated),
                     "archived": r.archived} for r in records if r.archived == archived]

    def associations(self, from_type: str, to_type: str) -> list[tuple[str, str, int]]:
        """(from id, to id, association type id) for every link from one type to the other."""
        f, t = self._type(from_type).name, self._type(to_type).name
        with self._portal.lock:
            return [(str(fid), str(tid), type_id)
                    for fid, targets in self._portal.assoc.get((f, t), {}).items()
                    for tid, types in targets.items() for type_id in sorted(types)]

    def properties(self, object_type: str) -> list[dict]:
        otype = self._type(object_type)
        with self._portal.lock:
            return [copy.deepcopy(p) for p in self._portal.types[otype.name].properties.values()]

    @property
    def requests(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._requests)

    def _log(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._requests.append(record)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def count(self, method: str | None = None, path_contains: str | None = None,
              status: int | None = None) -> int:
        return sum(1 for r in self.requests
                   if (method is None or r.method == method.upper())
                   and (path_contains is None or path_contains in r.path)
                   and (status is None or r.status == status))

    def writes(self) -> int:
        """Write calls received (POST/PATCH/PUT/DELETE), not counting batch reads and searches."""
        return sum(1 for r in self.requests
                   if r.method in WRITE_METHODS and not r.path.rstrip("/").endswith(_READ_SUFFIXES))

    # ---- steering -----------------------------------------------------------------------------
    def add_fault(self, kind: str, at: list[int] | int | None = None, rate: float = 0.0,
                  path_contains: str | None = None, times: int | None = None,
                  delay: float = 30.0, seed: int = 0, method: str | None = None) -> Fault:
        """Arm a fault: `at` counts (1-based) the requests this fault matches (method and
        path filters applied); `rate` fires with a seeded probability; `times` caps firings."""
        return self._faults.add(kind, at, rate, path_contains, times, delay, seed, method)

    def clear_faults(self) -> None:
        self._faults.clear()

    def on_request(self, callback: Callable[[HubSpotSandbox, RequestRecord], None]) -> None:
        """Call `callback(sandbox, record)` for each authorised, admitted request just before it
        is handled (record.status is 0): tamper with data mid-run, as the SAP sandbox allows."""
        self._callbacks.append(callback)

    def set_conflict_fails_batch(self, on: bool = True) -> None:
        """A 409 CONFLICT on one input fails the whole batch call with 409 (nothing written)
        instead of one 207 entry: HubSpot documents neither; a client must survive both."""
        self._portal.conflict_fails_batch = on

    @property
    def switches(self) -> Switches:
        """The undocumented behaviours in force; assignable mid-run (`hs.switches.x = ...`)."""
        return self._portal.switches

    def set_rate_limit(self, n: int) -> None:
        self._limiter.set_limit(n)

    def tamper(self, object_type: str, object_id: str | int, props: dict[str, Any]) -> None:
        """Change a record behind the connector's back (no validation, as a user in the UI)."""
        otype = self._type(object_type)
        with self._portal.lock:
            rec = self._portal.get(otype.name, str(object_id))
            if rec is None:
                raise KeyError(f"no {otype.name} with id {object_id}")
            self._portal.update(otype.name, rec, {k: as_string(v) for k, v in props.items()},
                                now=time.time())
