"""A HubSpot CRM API double for tests and demos (see README.md for what it imitates and why)."""

from .sandbox import HubSpotSandbox
from .server import RequestRecord

__all__ = ["HubSpotSandbox", "RequestRecord"]
