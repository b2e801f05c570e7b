"""What every stream of one run shares: the HTTP session, the SAP session and the lookups.

The tap builds one `RunContext` and hands it to each stream, so streams (and `client.py`) never
import the tap: imports read tap -> streams -> client -> context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests

from tap_sapb1.auth import SapSession, SapSessionAuthenticator, make_http_session
from tap_sapb1.enrichment import ReferenceNames
from tap_sapb1.redact import register_secret

if TYPE_CHECKING:
    from tap_sapb1.metadata import ServiceMetadata

_UNREAD = object()


class RunContext:
    """One run's sessions and per-run caches; each is made on first use, closed by close()."""

    def __init__(self, config: Mapping[str, Any],
                 read_lookup: Callable[[str, list[str]], list[dict]]) -> None:
        self.config = config
        self._read_lookup = read_lookup  # (stream name, fields) -> rows, for enrichment
        self._metadata: Any = _UNREAD

    @cached_property
    def http_session(self) -> requests.Session:
        """One HTTP session for the run (connection reuse, TLS policy from the settings)."""
        return make_http_session(self.config)

    @cached_property
    def sap_session(self) -> SapSession:
        """The run's SAP session: one login, re-login on demand, logout in close()."""
        return SapSession(self.config, self.http_session, on_secret=register_secret)

    @cached_property
    def authenticator(self) -> SapSessionAuthenticator:
        """Adds the session cookies to each request (shared by all streams)."""
        return SapSessionAuthenticator(self.sap_session)

    @cached_property
    def reference_names(self) -> ReferenceNames:
        """Code -> name lookups for enrich_line_items, read once per run."""
        return ReferenceNames(self._read_lookup)

    def metadata(self, load: Callable[[], ServiceMetadata | None]) -> ServiceMetadata | None:
        """The server's `$metadata`, read by `load` the first time any stream asks (once a run;
        None when it could not be read)."""
        if self._metadata is _UNREAD:
            self._metadata = load()
        return self._metadata

    def close(self) -> None:
        """Log out of SAP (if logged in) and release connections; safe to call twice."""
        if "sap_session" in self.__dict__:
            self.sap_session.logout()
        if "http_session" in self.__dict__:
            self.http_session.close()
