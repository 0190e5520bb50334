"""Clients from other addresses: every 127.x.y.z is this machine's loopback on Linux, so
a client bound to 127.0.2.1 reaches the test server as another network (another /24)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.safety_check.conftest import PASSWORD, Api


@asynccontextmanager
async def client_from(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client whose connections come from ``address`` (a 127.0.0.0/8 address)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def call_from(
    session: aiohttp.ClientSession,
    api: Api,
    method: str,
    path: str,
    token: str | None = None,
    **kwargs: Any,
) -> tuple[int, Any, dict[str, str]]:
    """One request to ``api``'s server: (status, JSON body or None, headers)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = str(api.client.make_url(path))
    async with session.request(method, url, headers=headers, **kwargs) as resp:
        body = await resp.json() if "json" in resp.headers.get("Content-Type", "") else None
        return resp.status, body, dict(resp.headers)


async def signup_from(api: Api, handle: str, address: str, password: str = PASSWORD) -> str:
    """Sign ``handle`` up from ``address``; the token is kept in ``api.tokens``."""
    async with client_from(address) as session:
        status, body, _ = await call_from(
            session, api, "POST", "/api/accounts", json={"handle": handle, "password": password}
        )
    assert status == 201, body
    api.tokens[handle] = str(body["token"])
    return api.tokens[handle]


async def call_as(
    api: Api, handle: str, address: str, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """One request of ``handle`` from ``address``: (status, JSON body or None)."""
    async with client_from(address) as session:
        status, body, _ = await call_from(session, api, method, path, api.tokens[handle], **kwargs)
    return status, body
