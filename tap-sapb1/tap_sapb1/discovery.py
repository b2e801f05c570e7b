"""Each stream's schema from the live server: the tap's curated fields the server has, plus UDFs.

`--discover` and every sync read `$metadata` once (cached in the run's context), so neither a
catalog made on another company nor a company without some field can make an invalid `$select`:

- a curated field the entity type lacks is left out of the schema (and of `$select`);
- every user-defined field (`U_*`) of the entity type, and of a nested collection's item type, is
  added, typed from its Edm type;
- a field the tap cannot work without (key, replication input) that the server lacks is one
  clear error naming the field, the entity set and the server's version;
- with an input catalog, only its fields are read; those this server lacks are named in one
  warning and not read (run `--discover` again to refresh the catalog);
- when `$metadata` cannot be read (4xx, not CSDL) or the connection settings are not given yet,
  the curated schema is used, with one warning.
"""

from __future__ import annotations

import copy
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_sapb1.client import session_id_of
from tap_sapb1.errors import SapB1Error, SapDataError, SessionExpiredError, is_session_error
from tap_sapb1.metadata import ServiceMetadata, parse_csdl
from tap_sapb1.paging import sap_date
from tap_sapb1.schemas import TAP_FIELDS

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_sapb1.client import SapStream
    from tap_sapb1.context import RunContext

logger = logging.getLogger("tap-sapb1.discovery")


class MissingFieldError(SapB1Error):
    """The server's entity type lacks a field the tap cannot work without."""


class MetadataUnavailableError(Exception):
    """$metadata answered, but not with a CSDL document the tap can read."""


def is_udf(name: str) -> bool:
    """A user-defined field: SAP prefixes every one with `U_`."""
    return name.startswith("U_")


def fetch_metadata(stream: SapStream) -> ServiceMetadata:
    """GET `$metadata` with the streams' retries and re-login. MetadataUnavailableError on a 4xx
    or a body that is not CSDL; connection failures and 5xx after the retries propagate."""

    def get(prepared: requests.PreparedRequest, _context: Any) -> requests.Response:
        response = stream.requests_session.send(stream.authenticator(prepared),
                                                 timeout=stream.timeout)
        if is_session_error(response):
            raise SessionExpiredError(session_id_of(response.request))
        if (response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR
                or response.status_code in stream.extra_retry_statuses):
            raise RetriableAPIError(f"SAP answered {response.status_code} for $metadata",
                                    response)
        return response

    prepared = stream.build_prepared_request(method="GET", url=f"{stream.url_base}$metadata",
                                             headers={"Accept": "application/xml"})
    response = stream.request_decorator(get)(prepared, None)
    if response.status_code >= HTTPStatus.BAD_REQUEST:
        raise MetadataUnavailableError(f"SAP answered {response.status_code}")
    try:
        return parse_csdl(response.content)
    except ValueError as exc:
        raise MetadataUnavailableError(str(exc)) from None


CONNECTION_SETTINGS = ("service_layer_url", "company_db", "username", "password")


def load_metadata(stream: SapStream) -> ServiceMetadata | None:
    """The server's metadata, or None (one warning) when it cannot be read, or when the
    connection settings are not given yet (`--discover` before configuring, e.g. `meltano
    select --list`)."""
    if missing := [name for name in CONNECTION_SETTINGS if not stream.config.get(name)]:
        logger.warning("No %s set: discovering the tap's built-in schemas, without this "
                       "company's user-defined fields", " / ".join(missing))
        return None
    try:
        return fetch_metadata(stream)
    except MetadataUnavailableError as exc:
        logger.warning("Could not read the Service Layer's $metadata (%s): using the tap's "
                       "built-in schemas, without user-defined fields; a field this company "
                       "lacks will be refused by SAP", exc)
        return None


def server_schema(curated: dict, properties: dict[str, str], meta: ServiceMetadata,
                  type_name: str) -> dict:
    """`curated` less the SAP fields the server lacks, plus the server's UDFs (also on the
    items of nested collections). Fields the tap adds itself (TAP_FIELDS) stay."""
    schema = copy.deepcopy(curated)
    fields = schema["properties"]
    for name in list(fields):
        if name in TAP_FIELDS:
            continue
        if name not in properties:
            del fields[name]
            continue
        items = fields[name].get("items")
        item_type = properties[name]
        if isinstance(items, dict) and "properties" in items and meta.item_properties(item_type):
            _fit(items, meta.item_properties(item_type), meta, item_type)
    _add_udfs(fields, properties, meta, type_name)
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name in fields]
    return schema


def _fit(items: dict, properties: dict[str, str], meta: ServiceMetadata, type_name: str) -> None:
    """A collection's item schema: its curated fields the server has, plus its UDFs."""
    for sub in list(items["properties"]):
        if sub not in TAP_FIELDS and sub not in properties:
            del items["properties"][sub]
    _add_udfs(items["properties"], properties, meta, type_name)


def _add_udfs(fields: dict, properties: dict[str, str], meta: ServiceMetadata,
              type_name: str) -> None:
    for name, csdl_type in properties.items():
        if is_udf(name) and name not in fields:
            fields[name] = {**meta.json_schema(csdl_type),
                            "description": f"User-defined field ({csdl_type} on SAP's "
                                           f"{type_name.rsplit('.', 1)[-1]})."}


class LiveSchema:
    """Mixin for SapStream subclasses: `schema` from the live server (see module doc).

    A stream sets `curated_schema` (the fields the tap knows, typed and described) and
    `enrichment_wanted` (fields read for enrich_line_items, when the server has them).
    """

    curated_schema: dict
    enrichment_wanted: tuple[str, ...] = ()
    run: RunContext
    entity_set: str
    key_field: str
    needed_fields: tuple[str, ...]
    _input_schema: dict | None
    _live_schema: dict | None = None
    _dates: tuple[tuple[str | None, str], ...] = ()  # (collection or None, field): see date_fields
    _server_fields: dict[str, str] | None = None  # as the server lists them; None: unknown

    def sync(self, context: Context | None = None) -> None:
        """Check this server's fields (schema from $metadata) before the stream's first query:
        with an input catalog nothing else needs the schema that early."""
        _ = self.schema
        super().sync(context)  # type: ignore[misc]

    def required_fields(self) -> dict[str, str]:
        """The fields this stream cannot work without -> what the tap needs each for."""
        return {self.key_field: "its key",
                **{name: "its change stamp (incremental reads)" for name in self.needed_fields}}

    @property
    def schema(self) -> dict:
        """The schema on this server (read once; see the module doc)."""
        if self._live_schema is None:
            self._live_schema = self._build_schema()
        return self._live_schema

    @property
    def effective_schema(self) -> dict:
        """Records are shaped by `schema` (the input catalog's fields this server has, typed
        by the server, plus those the tap cannot work without), not by the catalog as given."""
        return self.schema

    @property
    def enrichment_inputs(self) -> tuple[str, ...]:
        """The enrichment inputs the server has (known once the schema is built)."""
        if self._live_schema is None or self._server_fields is None:
            return self.enrichment_wanted
        return tuple(name for name in self.enrichment_wanted if name in self._server_fields)

    def lookup_rows(self, fields: list[str]) -> list[dict]:
        """Reference rows for enrichment, asking only for the fields this server has (a name
        field it lacks leaves those names empty)."""
        _ = self.schema  # reads the server's fields
        known = self._server_fields
        wanted = [name for name in fields if known is None or name in known]
        return super().lookup_rows(wanted)  # type: ignore[misc]

    def _server_metadata(self) -> ServiceMetadata | None:
        return self.run.metadata(lambda: load_metadata(self))  # type: ignore[arg-type]

    def _build_schema(self) -> dict:
        meta = self._server_metadata()
        if meta is None:
            schema = copy.deepcopy(self.curated_schema)
        else:
            properties = meta.properties(self.entity_set)
            self._server_fields = properties
            if properties is None:
                raise MissingFieldError(f"{self._server_name(meta)} has no entity set "
                                        f"{self.entity_set!r}: check the Service Layer version "
                                        "and that the user may read it")
            self._check_required(properties, meta)
            schema = server_schema(self.curated_schema, properties, meta,
                                   meta.type_of(self.entity_set) or self.entity_set)
        self._dates = tuple(date_fields(schema))
        return self._restricted_to_catalog(schema)

    def _check_required(self, properties: dict[str, str], meta: ServiceMetadata) -> None:
        for name, why in self.required_fields().items():
            if name not in properties:
                raise MissingFieldError(
                    f"{self._server_name(meta)} has no property {name!r} on {self.entity_set} "
                    f"(entity type {meta.type_of(self.entity_set)}), which tap-sapb1 needs as "
                    f"{why}: this Service Layer version is not supported for {self.entity_set}")

    def _server_name(self, meta: ServiceMetadata) -> str:
        root = self.run.config.get("service_layer_url", "")
        version = getattr(self.run.sap_session, "version", None)
        build = f"version {version}, " if version else ""
        return f"The Service Layer at {root} ({build}CSDL {meta.version or '?'})"

    def _restricted_to_catalog(self, schema: dict) -> dict:
        """With an input catalog: only its fields (and those the tap cannot work without,
        should a hand-pruned catalog lack them); those this server lacks, one warning."""
        catalog = self._input_schema
        if catalog is None or "properties" not in catalog:
            return schema
        wanted = {**catalog["properties"], **dict.fromkeys(self.required_fields())}
        missing = [name for name in wanted if name not in schema["properties"]]
        if missing:
            logger.warning("The catalog's %s names %s, which %s on this server lacks: not read "
                           "(run --discover again to refresh the catalog)",
                           getattr(self, "name", self.entity_set), ", ".join(missing),
                           self.entity_set)
        schema["properties"] = {name: field for name, field in schema["properties"].items()
                                if name in wanted or name in TAP_FIELDS}
        return schema

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Date UDFs and dates inside collections as `YYYY-MM-DD` too (v1: `/Date(ms)/`)."""
        row = super().post_process(row, context) or row  # type: ignore[misc]
        for collection, name in self._dates:
            items = row.get(collection) if collection else [row]
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get(name), str):
                    try:
                        item[name] = sap_date(item[name])
                    except ValueError as exc:
                        where = f"{collection} {name}" if collection else name
                        raise SapDataError(f"{self.entity_set} {self.key_field} "
                                           f"{row.get(self.key_field)!r}: {where} {exc}; fix "
                                           "the record in SAP") from None
        return row


def date_fields(schema: dict) -> list[tuple[str | None, str]]:
    """The dates SapStream.post_process does not normalise: UDFs on the record (None), and
    every date on a collection's items (v1 serves /Date(ms)/ there too)."""
    found: list[tuple[str | None, str]] = []
    for name, field in schema["properties"].items():
        if is_udf(name) and field.get("format") == "date":
            found.append((None, name))
        items = field.get("items")
        if isinstance(items, dict):
            found += [(name, sub) for sub, spec in items.get("properties", {}).items()
                      if isinstance(spec, dict) and spec.get("format") == "date"]
    return found
