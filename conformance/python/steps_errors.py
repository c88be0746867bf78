"""Typed errors from ``/sdk/token`` and the backend in general, and ``with_constraints``.
"""

from __future__ import annotations

import uuid

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from world import W, header_of, last_request, protected_ok, raises_now


@step("unknown grant -> GrantNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.GrantNotFoundError,
        W.app.request("GET", W.provider("echo/x"), grant_id=str(uuid.uuid4())),
    )


@step("agent without a delegation -> NoDelegatedGrantError")
async def _(ctx: Context) -> None:
    error = await expect_raises(
        sdk.NoDelegatedGrantError, W.agent.request("GET", W.provider("echo/x"), provider="slack")
    )
    expect_eq(error.agent_id, W.ready["agent_id"], "agent_id")
    await expect_raises(
        sdk.NoDelegatedGrantError,
        W.agent.request("GET", W.provider("echo/x"), grant_id=W.grants["oauth_bearer"]),
    )


@step("policy refusal -> PolicyViolationError")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(provider_id="hubspot", policy_error="outside_business_hours")
    error = await expect_raises(
        sdk.PolicyViolationError, W.app.request("GET", W.provider("echo/x"), grant_id=grant_id)
    )
    expect_eq(error.policy_error, "outside_business_hours", "policy_error")


def _state_step(status: str, cls_name: str) -> None:
    @step(f"grant {status} -> {cls_name}")
    async def _(ctx: Context) -> None:
        grant_id = W.control.add_grant(provider_id="box", status=status)
        await expect_raises(
            getattr(sdk, cls_name), W.app.request("GET", W.provider("echo/x"), grant_id=grant_id)
        )


for _status, _cls in (
    ("expired", "GrantExpiredError"),
    ("revoked", "GrantRevokedError"),
    ("deleted", "GrantDeletedError"),
    ("credential_revoked", "CredentialRevokedError"),
):
    _state_step(_status, _cls)


@step("refresh in progress -> TokenRefreshInProgressError, then success")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(provider_id="xero", refresh_in_progress=1)
    error = await expect_raises(
        sdk.TokenRefreshInProgressError,
        W.app.request("GET", W.provider("echo/x"), grant_id=grant_id),
    )
    expect_eq(error.grant_id, grant_id, "grant_id")
    response = await W.app.request("GET", W.provider("protected/retry"), grant_id=grant_id)
    await protected_ok(response, grant_id, "the retry")


@step("unknown user token -> ReAuthRequiredError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.ReAuthRequiredError,
        W.app.request(
            "GET", W.provider("echo/x"), provider="google", user_token="forged.jwt.value"
        ),
    )


@step("backend 500 / 429 on /sdk/token -> BackendError")
async def _(ctx: Context) -> None:
    for status in (500, 429):
        W.control.arm_fault("POST /sdk/token", {"kind": "status", "status": status})
        error = await expect_raises(
            sdk.BackendError,
            W.app.request("GET", W.provider("echo/x"), grant_id=W.grants["oauth_bearer"]),
        )
        expect(str(status) in str(error), f"the message names the status: {error}")


@step("backend slower than the client timeout -> TimeoutError")
async def _(ctx: Context) -> None:
    W.control.arm_fault("GET /sdk/scopes", {"kind": "delay", "ms": 2000})
    async with sdk.App(api_key=W.ready["app_key"], timeout=0.5) as impatient:
        await expect_raises(sdk.TimeoutError, impatient.scopes.list())


@step("backend drops the connection -> NetworkError")
async def _(ctx: Context) -> None:
    W.control.arm_fault("GET /sdk/scopes", {"kind": "drop"})
    await expect_raises(sdk.NetworkError, W.app.scopes.list())


# with_constraints


@step("with_constraints narrows what the client may do")
async def _(ctx: Context) -> None:
    narrowed = W.app.with_constraints(scopes=["grants:read"])
    expect_type(narrowed, sdk.App, "result")
    page = await narrowed.list_grants(limit=1)
    expect_type(page, models.UnifiedGrantListResult, "allowed call")
    recorded = last_request("POST /sdk/grants/list")
    expect_eq(header_of(recorded, "x-alter-scope-constraints"), "grants:read", "header")
    error = await expect_raises(
        sdk.InsufficientScopeError,
        narrowed.request("GET", W.provider("echo/x"), grant_id=W.grants["oauth_bearer"]),
    )
    expect("tokens:retrieve" in error.missing, f"missing: {error.missing}")
    raises_now(sdk.AlterValueError, lambda: narrowed.with_constraints(scopes=["grants:read"]))
    agent_narrowed = W.agent.with_constraints(scopes=["tokens:retrieve"])
    expect_type(agent_narrowed, sdk.Agent, "Agent.with_constraints")
    response = await agent_narrowed.request(
        "GET", W.provider("protected/narrow"), grant_id=W.grants["managed_secret_agent"]
    )
    await protected_ok(response, W.grants["managed_secret_agent"], "constrained agent")


@step("with_constraints broader than the key -> BackendError")
async def _(ctx: Context) -> None:
    minted = await W.app.keys.derive(scopes=["grants:read"], expires_in=60)
    async with sdk.App(api_key=minted.api_key) as derived:
        broader = derived.with_constraints(scopes=["agents:write"])
        error = await expect_raises(sdk.BackendError, broader.list_grants())
    expect_eq(error.details.get("error"), "constraint_not_narrowing", "error code")
