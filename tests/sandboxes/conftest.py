"""Fixtures the sandbox tests share: SAP credentials and logins, the HubSpot token and client.

The secrets are the fixed test ones defined in tests/conftest.py (docs/CONTRACTS.md). Under
`--import-mode=importlib` that module cannot be imported by name, so it is looked up among the
conftest plugins pytest has already registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

SapLogin = Callable[..., requests.Session]


def _root_conftest(config: pytest.Config) -> ModuleType:
    for plugin in config.pluginmanager.get_plugins():
        source = getattr(plugin, "__file__", None)
        if source and Path(source).resolve() == ROOT_CONFTEST:
            return plugin
    raise LookupError(f"{ROOT_CONFTEST} is not loaded as a conftest plugin")


@pytest.fixture(scope="session")
def sap_creds(pytestconfig: pytest.Config) -> dict[str, str]:
    """The body of a good SAP `POST /Login` (copy it before changing a field)."""
    root = _root_conftest(pytestconfig)
    return {"CompanyDB": root.SAP_COMPANY, "UserName": root.SAP_USER,
            "Password": root.SAP_PASSWORD}


@pytest.fixture(scope="session")
def hubspot_token(pytestconfig: pytest.Config) -> str:
    return _root_conftest(pytestconfig).HUBSPOT_TOKEN


@pytest.fixture(scope="session")
def sap_login(sap_creds: dict[str, str]) -> SapLogin:
    """`sap_login(url, **post_kwargs)`: a requests session logged in to the sandbox at `url`."""
    def login(url: str, **post_kwargs: Any) -> requests.Session:
        session = requests.Session()
        r = session.post(f"{url}/Login", json=sap_creds, **{"timeout": 5, **post_kwargs})
        assert r.status_code == 200, r.text
        return session
    return login


@pytest.fixture
def http(sb: Any, sap_login: SapLogin) -> Iterator[requests.Session]:
    """A logged-in session on the module's `sb` sandbox."""
    session = sap_login(sb.url)
    yield session
    session.close()


@pytest.fixture
def api(hubspot_sandbox: Any) -> Iterator[requests.Session]:
    """An authorised client of the shared `hubspot_sandbox`."""
    client = hubspot_sandbox.client()
    yield client
    client.close()
