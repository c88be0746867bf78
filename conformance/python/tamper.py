"""Hand-built signed requests (PROTOCOL.md §3), so the suite can send tampered ones.

The official client only ever sends correct signatures. To prove the fake rejects bad
ones, this module signs requests itself with a few lines of HMAC and then breaks exactly
one part of them.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

SIGNING_CONTEXT = b"alter-signing-v1"


def signing_key(api_key: str) -> bytes:
    """The per-key HMAC key (§3.1)."""
    return hmac.new(api_key.encode(), SIGNING_CONTEXT, hashlib.sha256).digest()


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signature(
    api_key: str,
    method: str,
    target: str,
    timestamp: int,
    nonce: str,
    content_sha256: str,
    constraints: str = "",
) -> str:
    """The hex signature over the six-line string of §3.2."""
    lines = [method.upper(), target, str(timestamp), nonce, content_sha256, constraints]
    message = "\n".join(lines).encode()
    return hmac.new(signing_key(api_key), message, hashlib.sha256).hexdigest()


@dataclass
class SignedRequest:
    """A request with its signature headers; change any field to tamper with it."""

    method: str
    target: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        api_key: str,
        method: str,
        target: str,
        body: bytes = b"",
        timestamp: int | None = None,
        constraints: str = "",
    ) -> SignedRequest:
        """A correctly signed request for ``target`` (path and query, starting ``/sdk/``)."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        nonce = secrets.token_hex(16)
        content_sha256 = body_hash(body)
        headers = {
            "x-api-key": api_key,
            "X-Alter-Timestamp": str(timestamp),
            "X-Alter-Nonce": nonce,
            "X-Alter-Content-SHA256": content_sha256,
            "X-Alter-Signature": signature(
                api_key, method, target, timestamp, nonce, content_sha256, constraints
            ),
        }
        if constraints:
            headers["X-Alter-Scope-Constraints"] = constraints
        if body:
            headers["Content-Type"] = "application/json"
        return cls(method.upper(), target, body, headers)

    def send(self, base_url: str) -> tuple[int, Any]:
        """Sends it to the backend; returns the status and the decoded JSON body."""
        status, body, _ = self.exchange(base_url)
        return status, body

    def exchange(self, base_url: str) -> tuple[int, Any, dict[str, str]]:
        """Like ``send``, also returning the response headers (names lower-case)."""
        parts = urllib.parse.urlsplit(base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request(
                self.method, parts.path.rstrip("/") + self.target, self.body, self.headers
            )
            answer = connection.getresponse()
            raw = answer.read()
            headers = {name.lower(): value for name, value in answer.getheaders()}
        finally:
            connection.close()
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode(errors="replace")
        return answer.status, decoded, headers


def error_code(body: Any) -> str | None:
    """The ``error`` code of an error body, top level or inside ``detail``."""
    if not isinstance(body, dict):
        return None
    inner = body.get("detail")
    if isinstance(inner, dict):
        body = inner
    code = body.get("error")
    return code if isinstance(code, str) else None
