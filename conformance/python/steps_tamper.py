"""Hand-signed requests with one part broken (PROTOCOL.md §3): each must answer 401
with the right error code. An untouched hand-signed request must pass first, so a 401
is never just a broken signer.
"""

from __future__ import annotations

import time
from typing import Any

from harness import Context, expect_eq, step
from tamper import SignedRequest, body_hash, error_code, signature
from world import W, unused_key


GRANTS_LIST_BODY = b'{"limit":1,"offset":0}'


def _signed(**kwargs: Any) -> SignedRequest:
    """A correctly signed ``POST /sdk/grants/list`` by the app key, unless told otherwise."""
    fields = {"api_key": W.ready["app_key"], "method": "POST", "target": "/sdk/grants/list",
              "body": GRANTS_LIST_BODY}
    fields.update(kwargs)
    return SignedRequest.build(**fields)


def send(request: SignedRequest) -> tuple[int, Any]:
    """Sends a hand-built request to the fake backend."""
    return request.send(W.ready["base_url"])


def expect_401(answer: tuple[int, Any], code: str) -> None:
    """The answer is 401 with error code ``code``."""
    status, body = answer
    expect_eq(status, 401, f"status (body {body})")
    expect_eq(error_code(body), code, "error code")


@step("tamper: an untouched hand-signed request is accepted")
async def _(ctx: Context) -> None:
    status, body = send(_signed())
    expect_eq(status, 200, f"status (body {body})")
    listing = "/sdk/agents?include_revoked=false&limit=1&offset=0"
    status, _ = send(_signed(method="GET", target=listing, body=b""))
    expect_eq(status, 200, "a signed GET with a query")


@step("tamper: wrong signature -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    good = request.headers["X-Alter-Signature"]
    request.headers["X-Alter-Signature"] = ("0" if good[0] != "0" else "1") + good[1:]
    expect_401(send(request), "invalid_signature")


@step("tamper: wrong body hash -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    request.headers["X-Alter-Content-SHA256"] = "ab" * 32
    expect_401(send(request), "content_hash_mismatch")


@step("tamper: body changed after signing -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    request.body = b'{"limit":2,"offset":0}'
    expect_401(send(request), "content_hash_mismatch")


@step("tamper: body and hash changed, signature kept -> 401")
async def _(ctx: Context) -> None:

    request = _signed()
    request.body = b'{"limit":2,"offset":0}'
    request.headers["X-Alter-Content-SHA256"] = body_hash(request.body)
    expect_401(send(request), "invalid_signature")


@step("tamper: old timestamp (correctly signed) -> 401")
async def _(ctx: Context) -> None:
    expect_401(send(_signed(timestamp=int(time.time()) - 3600)), "timestamp_out_of_window")


@step("tamper: future timestamp (correctly signed) -> 401")
async def _(ctx: Context) -> None:
    expect_401(send(_signed(timestamp=int(time.time()) + 3600)), "timestamp_out_of_window")


@step("tamper: replayed nonce -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    status, body = send(request)
    expect_eq(status, 200, f"first use (body {body})")
    expect_401(send(request), "nonce_reused")


@step("tamper: unknown key -> 401")
async def _(ctx: Context) -> None:
    expect_401(send(_signed(api_key=unused_key())), "invalid_key")


@step("tamper: signed with another key's signing key -> 401")
async def _(ctx: Context) -> None:
    request = _signed(api_key=W.ready["agent_key"])
    request.headers["x-api-key"] = W.ready["app_key"]
    expect_401(send(request), "invalid_signature")


@step("tamper: signature for another path -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    request.target = "/sdk/grants/list?limit=1000"
    expect_401(send(request), "invalid_signature")


@step("tamper: scope constraints added after signing -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    request.headers["X-Alter-Scope-Constraints"] = "grants:read"
    expect_401(send(request), "invalid_signature")


@step("tamper: scope constraints removed after signing -> 401")
async def _(ctx: Context) -> None:
    request = _signed(constraints="grants:read")
    del request.headers["X-Alter-Scope-Constraints"]
    expect_401(send(request), "invalid_signature")


@step("tamper: no signature headers -> 401")
async def _(ctx: Context) -> None:
    request = _signed()
    for name in ("X-Alter-Signature", "X-Alter-Nonce", "X-Alter-Timestamp"):
        del request.headers[name]
    expect_401(send(request), "missing_signature")


@step("tamper: revoked key, correctly signed -> 401")
async def _(ctx: Context) -> None:
    expect_401(send(_signed(api_key=ctx.need("rotated_key"))), "key_revoked")


@step("tamper: the signer matches PROTOCOL.md §3.6 vector A")
async def _(ctx: Context) -> None:
    body = (b'{"grant_id":"3f0c6a52-1b7e-4c1a-9e5d-2a4b8c9d0e1f","reason":null,'
            b'"request":{"method":"GET","url":"https://api.example.com/v1/me"}}')

    expect_eq(
        signature("alter_key_example", "POST", "/sdk/token", 1700000000,
                  "00112233445566778899aabbccddeeff", body_hash(body)),
        "81a277e3085dc2dfab89a1171cb3b2a209009de9af544541ef83fd9c445248b6",
        "signature",
    )
