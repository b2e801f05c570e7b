"""The `tap-sapb1` command: singer-sdk's CLI, plus one clear line for foreseeable failures,
secret-free logs, and a logout however the run ends.
"""

from __future__ import annotations

import logging
import sys

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_sapb1.errors import describe
from tap_sapb1.redact import install
from tap_sapb1.tap import TapSAPB1, close_all, live_url

FORESEEABLE = (ConfigValidationError, FatalAPIError, RetriableAPIError,
               requests.exceptions.RequestException)

logger = logging.getLogger("tap-sapb1")


def main() -> None:
    """Run the Singer tap; exit 1 with one line (no traceback) on a foreseeable error."""
    command = TapSAPB1.cli  # sets up singer-sdk's console logging
    install()
    try:
        command.main(prog_name=TapSAPB1.name)
    except FORESEEABLE as exc:
        close_all()  # log out first, so the error stays the last line
        if isinstance(exc, ConfigValidationError):
            logger.error("Config error: %s", "; ".join(exc.errors or [str(exc)]))
        else:
            logger.error("%s", describe(exc, live_url()))
        sys.exit(1)
    finally:
        close_all()


if __name__ == "__main__":
    main()
