"""Small helpers for the target's sandbox tests."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text


def cfg(target_config: dict, **over) -> dict:
    """The shared fixture's settings, with fast retries for tests."""
    return {**target_config, "backoff_base_seconds": 0.01, "request_timeout": 5, **over}


def by(hs, object_type: str, key: str) -> dict[str, dict]:
    """Sandbox objects of a type keyed by a property, properties with hs_object_id."""
    out = {}
    for obj in hs.objects(object_type):
        props = dict(obj["properties"])
        props["hs_object_id"] = str(obj["id"])
        out[props.get(key)] = props
    return out


def ledger_rows(target_config: dict, table: str) -> list[dict]:
    engine = create_engine(target_config["ledger_url"])
    if not inspect(engine).has_table(table):
        return []
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f"select * from {table}"))]  # noqa: S608


def settled(hs, quiet: float = 0.1) -> int:
    """The sandbox's request count once it stops growing. The sandbox logs each request before
    answering it; the wait covers a call the server is still holding (a `timeout` fault) or one
    a client gave up on and sent again."""
    import time

    count = -1
    while count != len(hs.requests):
        count = len(hs.requests)
        time.sleep(quiet)
    return count
