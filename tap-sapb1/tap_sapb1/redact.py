"""Keeps the password and SAP session ids out of every log line, whoever writes it.

A filter on the root handlers replaces each known secret with `***` after the message is
formatted; the session object registers each new session id as it logs in.
"""

from __future__ import annotations

import logging
import threading

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Never let `value` reach a log line from now on (values shorter than 4 chars are ignored)."""
    if not value or len(value) < 4:
        return
    with _LOCK:
        _SECRETS.add(value)
    install()


def scrub(text: str) -> str:
    """`text` with every registered secret masked."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Replaces each record's message with its formatted text, secrets masked.

    The text is formatted here once (message, args, traceback, stack) and the args dropped, so
    a `%` in the text (`%20` in a URL, a traceback quoting one) is never formatted again, and a
    record whose own format string is broken still shows its text, masked, not the raw args.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not _SECRETS:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a broken format string: keep what it says
            message = f"{record.msg} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            message = f"{message}\n{record.exc_text}"
        if record.stack_info:
            message = f"{message}\n{record.stack_info}"
        record.msg, record.args = scrub(message), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER = SecretFilter()


def install() -> None:
    """Attach the filter to every handler of the root logger (idempotent)."""
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
