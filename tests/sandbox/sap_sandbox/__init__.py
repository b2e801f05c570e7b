"""A faithful stand-in for the SAP Business One Service Layer, for tests and demos.

    from sap_sandbox import SapSandbox, DataSpec
    with SapSandbox(data=DataSpec(seed=1)) as sb:
        sb.url  # http://127.0.0.1:PORT/b1s/v1

Behaviour and its public sources: README.md next to this file.
"""

from sap_sandbox.clock import SandboxClock
from sap_sandbox.datagen import DataSpec
from sap_sandbox.records import RequestRecord
from sap_sandbox.sandbox import SapSandbox

__all__ = ["DataSpec", "RequestRecord", "SandboxClock", "SapSandbox"]
