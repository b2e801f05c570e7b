"""SapSandbox: the Python API tests use to run, inspect and disturb the Service Layer double."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from sap_sandbox import postings
from sap_sandbox.clock import SandboxClock
from sap_sandbox.datagen import DataSpec, generate
from sap_sandbox.faults import Fault, FaultPlan
from sap_sandbox.handler import SandboxServer
from sap_sandbox.records import RequestRecord
from sap_sandbox.schema import Schema, Udfs
from sap_sandbox.sessions import SessionTable
from sap_sandbox.store import Store
from sap_sandbox.tls import make_tls
from sap_sandbox.transactions import Transaction
from sap_sandbox.values import DATE_FORMS

Callback = Callable[["SapSandbox", RequestRecord], None]
FILTER_MODES = ("apply", "ignore-time", "ignore-all")


class SapSandbox:
    """A Service Layer on 127.0.0.1 (random port unless `port`), seeded data, faults on demand."""

    def __init__(self, data: DataSpec | None = None, *, max_page_size: int = 0,
                 honour_page_size: bool = True, session_timeout: float = 1800,
                 tls: bool = False, company_db: str = "SBODEMOUS", username: str = "manager",
                 password: str = "S3cr3t-B1-passw0rd!",  # noqa: S107 - the fixed test secret
                 host: str = "127.0.0.1", port: int = 0, time_filter_precision: str = "minute",
                 session_error_form: str = "nested", date_form: str = "sap",
                 require_route_id: bool = True, udfs: Udfs | None = None,
                 filter_mode: str = "apply", session_loss: str = "-5002") -> None:
        self.spec = data or DataSpec()
        # The company's user-defined fields, by SAP type: {"Document": {"U_X": "Edm.String"}}.
        # None: a standard company (no U_* anywhere), as SAP ships it.
        self.schema = Schema(udfs)
        self.max_page_size = max_page_size
        self.honour_page_size = honour_page_size
        self.session_timeout = session_timeout
        self.tls = tls
        self.company_db = company_db
        self.username = username
        self.password = password
        self.host = host
        self.port = port
        if time_filter_precision not in ("second", "minute"):
            raise ValueError('time_filter_precision must be "second" or "minute"')
        if session_error_form not in ("nested", "flat"):
            raise ValueError('session_error_form must be "nested" or "flat"')
        self.session_error_form = session_error_form
        # What kill_sessions() does by default: "-5002" (sessions stay known but answer -5002
        # until a new Login, as the project brief's SAP does) or "301" (forgotten).
        if session_loss not in ("301", "-5002"):
            raise ValueError('session_loss must be "301" or "-5002"')
        self.session_loss = session_loss
        # Behind SAP's load balancer a request without Login's ROUTEID cookie may reach a node
        # that never saw the session; True answers such a request as an unknown session.
        self.require_route_id = require_route_id
        if date_form not in DATE_FORMS:
            raise ValueError(f"date_form must be one of {', '.join(DATE_FORMS)}")
        self.date_form = date_form
        if filter_mode not in FILTER_MODES:
            raise ValueError(f"filter_mode must be one of {', '.join(FILTER_MODES)}")
        # "apply": $filter as SAP applies it. "ignore-time": comparisons on *Time properties
        # hold for every record; "ignore-all": $filter is parsed but not applied (robustness
        # switches: servers and proxies seen to do so, not a claim about SAP).
        self.filter_mode = filter_mode
        # Where a "foreign-nextlink" fault points (another host name for the same loopback
        # server, plain http); a test may point it at a server of its own.
        self.foreign_host = "localhost"
        self.clock = SandboxClock()
        self._store = Store(generate(self.spec, self.schema), self.clock,
                            minute_times=time_filter_precision == "minute", schema=self.schema,
                            numbering=self.spec.numbering, filter_mode=filter_mode,
                            payment_before_invoice=self.spec.payment_before_invoice,
                            fc_cash_sum=self.spec.fc_cash_sum,
                            fc_transfer_sum=self.spec.fc_transfer_sum)
        self._sessions = SessionTable(self.clock, session_timeout)
        self._faults = FaultPlan(self.spec.seed)
        self._callbacks: list[Callback] = []
        self._requests: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self._ssl = None
        self.ca_cert_path: str | None = None
        self.server_errors: list[str] = []  # unexpected exceptions inside the server (bugs)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SapSandbox:
        if self._server is not None:
            return self
        if self.tls and self._ssl is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="sap-sandbox-tls-"))
            self._ssl, ca = make_tls(self._tmp)
            self.ca_cert_path = str(ca)
        self._stopping.clear()
        self._server = SandboxServer((self.host, self.port), self, self._ssl)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"sap-sandbox:{self.port}", daemon=True)
        self._thread.start()
        return self

    def _halt(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.cut_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def stop(self) -> None:
        """Stop serving, cut open connections and remove the generated certificate."""
        self._halt()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp, self._ssl, self.ca_cert_path = None, None, None

    def restart(self) -> None:
        """A Service Layer restart: same port and data, every session and connection lost."""
        self._halt()
        self._sessions.kill_all()
        self.start()

    def __enter__(self) -> SapSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The v1 service root, e.g. http://127.0.0.1:PORT/b1s/v1."""
        return f"{self.base_url}/b1s/v1"

    @property
    def url_v2(self) -> str:
        return f"{self.base_url}/b1s/v2"

    def foreign_link_base(self, version: str = "v1") -> str:
        """The service root a "foreign-nextlink" fault's absolute link names (another host)."""
        return f"http://{self.foreign_host}:{self.port}/b1s/{version}"

    # -- request log --------------------------------------------------------------------------
    def _log_request(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._requests.append(record)
            record.number = len(self._requests)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request received so far, in arrival order."""
        with self._log_lock:
            return list(self._requests)

    def count(self, path_contains: str | None = None, method: str | None = None,
              status: int | None = None) -> int:
        """How many logged requests match every given criterion."""
        return sum(1 for r in self.requests
                   if (path_contains is None or path_contains in r.path)
                   and (method is None or r.method == method)
                   and (status is None or r.status == status))

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    # -- disturbances -------------------------------------------------------------------------
    def kill_sessions(self, answer: str | None = None) -> int:
        """End every session. "301": they are forgotten (HTTP 401, code 301, as after an idle
        timeout); "-5002": they stay known but broken (HTTP 400, code -5002) until a new Login.
        None: the sandbox's `session_loss` ("-5002" unless set)."""
        return self._sessions.kill_all(answer or self.session_loss)

    def add_fault(self, kind: str, at: Iterable[int] | int | None = None, rate: float = 0.0,
                  path_contains: str | None = None, times: int | None = None,
                  delay: float = 10.0, message: str | None = None) -> Fault:
        """Make matching requests fail: "500", "503", "timeout" (answer after `delay` s), "drop",
        and the robustness faults of README "Faults" ("5002" with `message`, "html-404",
        "html-502", "not-object", "two-cookies", "empty-page", "non-list-page",
        "non-object-items", "bad-date", "foreign-nextlink")."""
        return self._faults.add(kind, at, rate, path_contains, times, delay, message)

    def clear_faults(self) -> None:
        self._faults.clear()

    def on_request(self, callback: Callback) -> None:
        """Call `callback(sandbox, record)` on each request before it is answered."""
        self._callbacks.append(callback)

    # -- data ---------------------------------------------------------------------------------
    def create(self, entity_set: str, values: dict[str, Any]) -> dict[str, Any]:
        """Add a record as SAP would (UpdateDate/UpdateTime from the sandbox clock, unless
        `values` sets them: tests may build exact boundary cases)."""
        return self._store.create(entity_set, values)

    def update(self, entity_set: str, key: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Change fields of a record; it gets a fresh UpdateDate/UpdateTime (unless given)."""
        return self._store.update(entity_set, key, values)

    def post_payment(self, card_code: str, lines: list[dict[str, Any]], way: str = "transfer",
                     doc_date: str | None = None, currency: str = "USD") -> dict[str, Any]:
        """An incoming payment applying `lines` ({"DocEntry", "SumApplied", "InvoiceType"}, type
        it_Invoice by default; it_JournalEntry, it_DownPayment, it_CredItnote ... stored as
        given). Invoices it pays get PaidToDate(FC), maybe bost_Close, and a fresh stamp.
        `way`: "cash", "transfer", "check" (PaymentChecks) or "card" (PaymentCreditCards).
        A line may settle a cash discount (`TotalDiscount`) and withholding tax
        (`WitholdingTaxApplied`) too (see `DataSpec.paid_to_date_counts_deductions`)."""
        return postings.post_payment(self._store, card_code, lines, way, doc_date,
                                     counts_deductions=self.spec.paid_to_date_counts_deductions,
                                     currency=currency)

    def cancel_payment(self, doc_entry: int) -> dict[str, Any]:
        """Cancel a payment as SAP does: Cancelled tYES, CancelStatus csYes; the invoices it paid
        are reopened (PaidToDate/PaidToDateFC reduced, bost_Open) and re-stamped unless
        `DataSpec(restamp_on_payment_cancel=False)`."""
        return postings.cancel_payment(self._store, doc_entry,
                                       self.spec.restamp_on_payment_cancel,
                                       self.spec.paid_to_date_counts_deductions)

    def cancel_invoice(self, doc_entry: int) -> dict[str, Any]:
        """Cancel an unpaid invoice as SAP does: the original gets Cancelled tYES, CancelStatus
        csYes, bost_Close; returns the new cancellation document (csCancellation)."""
        return postings.cancel_invoice(self._store, doc_entry)

    def post_credit_note(self, base_entry: int, line_num: int = 0,
                         quantity: float | None = None) -> dict[str, Any]:
        """A credit note based on open invoice `base_entry` (its line `line_num`, `quantity` of
        it, default all). With `DataSpec(credit_notes_reconcile=True)` the credit is reconciled
        into the invoice (PaidToDate raised, closed when covered, re-stamped); else the invoice
        is left as it was."""
        return postings.post_credit_note(self._store, base_entry, line_num, quantity,
                                         self.spec.credit_notes_reconcile)

    def transaction(self, commit_at_request: int | None = None) -> Transaction:
        """Changes stamped now, visible at `tx.commit()` (records committed late); with
        `commit_at_request=N` the sandbox commits when its N-th request (1-based, log order)
        arrives, before answering it."""
        tx = Transaction(self._store)
        if commit_at_request is not None:
            def commit_when_due(_sb: SapSandbox, record: RequestRecord) -> None:
                if not tx.committed and record.number >= commit_at_request:
                    tx.commit()
            self.on_request(commit_when_due)
        return tx

    def get(self, entity_set: str, key: Any) -> dict[str, Any]:
        return self._store.get(entity_set, key)

    def all(self, entity_set: str) -> list[dict[str, Any]]:
        return self._store.all(entity_set)
