"""Proxy mode and approvals: ``proxy_request`` 200 and 202, ``get_approval_status``,
``await_approval`` approved, denied, expired, timed out and failed.
"""

from __future__ import annotations

import base64
import json
import uuid

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from control import later
from world import W


@step("proxy_request 200 (credential injected by the backend)")
async def _(ctx: Context) -> None:
    result = await W.app.proxy_request(
        "GET", W.provider("protected/proxied"), grant_id=W.grants["oauth_bearer"]
    )
    expect_type(result, models.ApprovalResult, "result")
    expect_eq(result.status_code, 200, f"provider status ({result.body_text()[:200]})")
    expect_eq(result.approval_id, None, "approval_id of a direct call")
    expect_eq(result.body_json().get("grant_id"), W.grants["oauth_bearer"], "grant used")


@step("proxy_request with body, headers and query")
async def _(ctx: Context) -> None:
    result = await W.app.proxy_request(
        "POST",
        W.provider("echo/proxy"),
        grant_id=W.grants["api_key_header"],
        json_body={"a": [1, 2]},
        headers={"X-Custom": "yes"},
        query_params={"limit": "5"},
        reason="conformance",
    )
    expect_type(result, models.ApprovalResult, "result")
    echo = result.body_json()
    expect_eq(echo["method"], "POST", "method")
    expect_eq(echo["query_params"].get("limit"), "5", "query")
    expect_eq(echo["headers"].get("x-custom"), "yes", "header")

    expect_eq(json.loads(base64.b64decode(echo["body_b64"])), {"a": [1, 2]}, "body")


@step("proxy_request by agent")
async def _(ctx: Context) -> None:
    result = await W.agent.proxy_request(
        "GET", W.provider("protected/agent-proxy"), grant_id=W.grants["managed_secret_agent"]
    )
    expect_type(result, models.ApprovalResult, "result")
    expect_eq(result.status_code, 200, "provider status")


@step("proxy_request forbidden header -> AlterValueError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.AlterValueError,
        W.app.proxy_request(
            "GET", W.provider("echo/x"), grant_id=W.grants["oauth_bearer"],
            headers={"Authorization": "Bearer mine"},
        ),
    )


@step("proxy_request unknown grant -> BackendError")
async def _(ctx: Context) -> None:
    error = await expect_raises(
        sdk.BackendError,
        W.app.proxy_request("GET", W.provider("echo/x"), grant_id=str(uuid.uuid4())),
    )
    expect_eq(error.details.get("status_code"), 404, "status_code")


async def pending_call(path: str = "echo/hitl") -> str:
    """Starts a proxy call through the HITL grant; returns its approval id."""
    pending = await W.app.proxy_request("POST", W.provider(path), grant_id=W.grants["hitl"],
                                      json_body={"op": "transfer"})
    expect_type(pending, models.PendingApproval, "proxy_request through the HITL grant")
    expect_eq(pending.status, "pending", "status")
    expect(pending.expires_in > 0, f"expires_in is {pending.expires_in}")
    expect(pending.approval_url.startswith("http"), "approval_url")
    return str(pending.approval_id)


@step("proxy_request 202 -> PendingApproval; get_approval_status")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    status = await W.app.get_approval_status(approval_id)
    expect_type(status, models.ApprovalStatus, "result")
    expect_eq(status.status, "pending", "status")
    expect_eq(str(status.approval_id), approval_id, "approval_id")
    ctx.values["pending_approval"] = approval_id


@step("await_approval: approved while waiting")
async def _(ctx: Context) -> None:
    approval_id = ctx.need("pending_approval")
    later(0.3, lambda: W.control.approve(approval_id))
    result = await W.app.await_approval(approval_id, timeout=15, poll_interval=0.1)
    expect_type(result, models.ApprovalResult, "result")
    expect_eq(str(result.approval_id), approval_id, "approval_id")
    expect_eq(result.status_code, 200, "provider status")
    expect_eq(result.body_json().get("path"), "/echo/hitl", "the call ran")
    history = W.control.approval_history(approval_id)
    expect_eq(history, ["pending", "approved", "executing", "executed"], "history")
    status = await W.app.get_approval_status(approval_id)
    expect_eq(status.status, "executed", "final status")
    expect(status.has_result, "has_result")


@step("await_approval: approved before waiting (agent)")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    W.control.approve(approval_id)
    result = await W.agent.await_approval(approval_id, timeout=10, poll_interval=0.1)
    expect_type(result, models.ApprovalResult, "result")
    expect_eq(result.status_code, 200, "provider status")
    status = await W.agent.get_approval_status(approval_id)
    expect_type(status, models.ApprovalStatus, "Agent.get_approval_status")


@step("await_approval: denied -> ApprovalDeniedError")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    later(0.2, lambda: W.control.deny(approval_id, "not during the freeze"))
    error = await expect_raises(
        sdk.ApprovalDeniedError, W.app.await_approval(approval_id, timeout=10, poll_interval=0.1)
    )
    expect("freeze" in str(error), f"the reason reaches the error: {error}")
    expect_eq(str(error.approval_id), approval_id, "approval_id")


@step("await_approval: expired -> ApprovalExpiredError")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    W.control.expire(approval_id)
    await expect_raises(
        sdk.ApprovalExpiredError, W.app.await_approval(approval_id, timeout=10, poll_interval=0.1)
    )


@step("await_approval: timed out -> ApprovalTimeoutError")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    await expect_raises(
        sdk.ApprovalTimeoutError, W.app.await_approval(approval_id, timeout=0.5, poll_interval=0.1)
    )
    W.control.deny(approval_id, "cleanup")


@step("await_approval: execution failed -> ApprovalExecutionFailedError")
async def _(ctx: Context) -> None:
    approval_id = await pending_call("drop")
    W.control.approve(approval_id)
    await expect_raises(
        sdk.ApprovalExecutionFailedError,
        W.app.await_approval(approval_id, timeout=10, poll_interval=0.1),
    )


@step("await_approval rides out a 503 poll")
async def _(ctx: Context) -> None:
    approval_id = await pending_call()
    W.control.arm_fault("GET /sdk/approvals/{approval_id}", {"kind": "status", "status": 503})
    later(0.3, lambda: W.control.approve(approval_id))
    result = await W.app.await_approval(approval_id, timeout=10, poll_interval=0.1)
    expect_type(result, models.ApprovalResult, "result")
    polls = W.control.requests("GET /sdk/approvals/{approval_id}")
    expect(any(p["status"] == 503 for p in polls), "one poll met the 503")


@step("get_approval_status unknown id -> BackendError")
async def _(ctx: Context) -> None:
    error = await expect_raises(sdk.BackendError, W.app.get_approval_status(str(uuid.uuid4())))
    expect_eq(error.details.get("status_code"), 404, "status_code")
