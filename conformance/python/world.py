"""What every step module shares: the running testkit, the two seeded clients, helpers.

``suite.py`` fills ``W`` in before the first step runs; step modules read it at run time
(``W.app``, ``W.ready[...]``), never at import time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import zlib
from typing import Any

import alter_sdk as sdk

from control import Control, in_thread
from harness import Failed, expect, expect_eq


class World:
    """The testkit's ready line, its control API and the clients built from its keys."""

    ready: dict[str, Any]
    grants: dict[str, str]
    provider_base: str
    control: Control
    app: sdk.App
    agent: sdk.Agent

    def provider(self, path: str) -> str:
        """A URL on the fake provider."""
        return f"{self.provider_base}/{path.lstrip('/')}"


W = World()


def unused_key(kind: str = "rk") -> str:
    """A well-formed key with a valid checksum (PROTOCOL.md §1.2) that the fake never issued."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    body = uuid.uuid4().hex[:22]
    crc = zlib.crc32(f"{kind}:{body}".encode())
    checksum = "".join(alphabet[(crc >> (5 * i)) & 31] for i in range(6))
    key = f"alter_{kind}_{body}_{checksum}"
    expect(sdk.is_valid_key(key), "the made-up key should pass the client's own validator")
    return key


async def protected_ok(response: Any, grant_id: str, what: str) -> dict[str, Any]:
    """Checks the fake provider's ``/protected`` verdict: 200, through ``grant_id``."""
    body = response.json()
    expect_eq(response.status_code, 200, f"{what}: provider status ({body})")
    expect_eq(body.get("grant_id"), grant_id, f"{what}: grant whose credential arrived")
    return body


async def eventually(what: str, probe: Any, timeout: float = 5.0) -> Any:
    """Polls ``probe()`` (a blocking control read) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await in_thread(probe)
        if found:
            return found
        if time.monotonic() >= deadline:
            raise Failed(f"{what} did not happen within {timeout:.0f}s")
        await asyncio.sleep(0.05)


def header_of(recorded: dict[str, Any], name: str) -> str | None:
    """A header of a request the fake recorded (first one of that name)."""
    for key, value in recorded["headers"]:
        if key.lower() == name.lower():
            return value
    return None


def body_of(recorded: dict[str, Any]) -> Any:
    """The JSON body of a request the fake recorded."""
    return json.loads(base64.b64decode(recorded["body"]))


def last_request(route: str) -> dict[str, Any]:
    """The newest recorded request of ``route`` (``METHOD /pattern``)."""
    recorded = W.control.requests(route)
    if not recorded:
        raise Failed(f"the fake recorded no {route}")
    return recorded[-1]


def raises_now(cls: type, call: Any) -> None:
    """Checks that the synchronous ``call()`` raises exactly ``cls``."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is checked
        if type(error) is not cls:
            raise Failed(f"expected {cls.__name__}, got {type(error).__name__}") from error
        return
    raise Failed(f"expected {cls.__name__}, but the call returned")
