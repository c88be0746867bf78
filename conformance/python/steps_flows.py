"""Connect and sign-in flows, completed through the control API as a user in a browser
would: ``create_connect_session``, ``connect()``, managed-secret connect sessions,
``authenticate()`` and ``verify_user_token``.
"""

from __future__ import annotations

from typing import Any

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from control import SessionCompleter
from world import W, body_of, last_request, protected_ok


@step("create_connect_session")
async def _(ctx: Context) -> None:
    session = await W.app.create_connect_session(
        allowed_providers=["notion"], return_url="http://127.0.0.1/done",
        metadata={"ip_address": "127.0.0.1"},
    )
    expect_type(session, models.ConnectSession, "result")
    expect(session.connect_url.startswith("http"), "connect_url")
    expect(session.expires_in > 0, "expires_in")
    pending = W.control.pending_sessions()["connect"]
    expect(session.session_token in pending, "the session is pending")
    W.control.ok("POST", f"connect/{session.session_token}/complete", {"outcome": "expired"})


@step("create_connect_session for an agent: completion delegates to it")
async def _(ctx: Context) -> None:
    session = await W.app.create_connect_session(
        allowed_providers=["trello"], agent="testkit-agent", user_token=W.ready["user_token"]
    )
    expect_type(session, models.ConnectSession, "result")
    poll = W.control.ok("POST", f"connect/{session.session_token}/complete", {})
    grant_id = poll["grants"][0]["grant_id"]
    page = await W.agent.list_grants()
    item = {g.grant_id: g for g in page.grants}.get(grant_id)
    expect_type(item, models.OAuthGrantItem, "the agent's view of the new grant")
    expect_eq(item.provider_id, "trello", "provider_id")


@step("connect() completed through the control API")
async def _(ctx: Context) -> None:
    completion = {"provider_id": "linear", "account_identifier": "c@example.com",
                  "scopes": ["read"]}
    with SessionCompleter(W.control, "connect", completion) as completer:
        results = await W.app.connect(
            providers=["linear"], timeout=15, poll_interval=0.1, open_browser=False
        )
    expect_eq(completer.error, None, "completer")
    expect_eq(len(results), 1, "one connected provider")
    result = results[0]
    expect_type(result, models.ConnectResult, "item")
    expect_eq(result.provider_id, "linear", "provider_id")
    expect_eq(result.account_identifier, "c@example.com", "account_identifier")
    expect_eq(result.scopes, ["read"], "scopes")
    page = await W.app.list_grants(provider_id="linear")
    expect(result.grant_id in {g.grant_id for g in page.grants}, "the new grant is listed")
    response = await W.app.request("GET", W.provider("protected/linear"), grant_id=result.grant_id)
    await protected_ok(response, result.grant_id, "the connected grant")


def _connect_failure_step(label: str, completion: dict[str, Any], cls_name: str) -> None:
    @step(f"connect() {label} -> {cls_name}")
    async def _(ctx: Context) -> None:
        with SessionCompleter(W.control, "connect", completion) as completer:
            await expect_raises(
                getattr(sdk, cls_name),
                W.app.connect(timeout=15, poll_interval=0.1, open_browser=False),
            )
        expect_eq(completer.error, None, "completer")


_connect_failure_step("denied", {"outcome": "error", "error_code": "connect_denied"},
                      "ConnectDeniedError")
_connect_failure_step("misconfigured", {"outcome": "error", "error_code": "invalid_client"},
                      "ConnectConfigError")
_connect_failure_step("expired", {"outcome": "expired"}, "ConnectFlowError")


@step("connect() nobody finishes -> ConnectTimeoutError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.ConnectTimeoutError, W.app.connect(timeout=1, poll_interval=0.2, open_browser=False)
    )


@step("Agent.connect() delegates the new grant to the agent")
async def _(ctx: Context) -> None:
    session = await W.agent.create_connect_session(
        allowed_providers=["gitlab"], user_token=W.ready["user_token"]
    )
    expect_type(session, models.ConnectSession, "create_connect_session result")
    W.control.ok("POST", f"connect/{session.session_token}/complete", {"outcome": "expired"})
    with SessionCompleter(W.control, "connect", {"provider_id": "gitlab"}) as completer:
        results = await W.agent.connect(
            providers=["gitlab"], timeout=15, poll_interval=0.1, open_browser=False
        )
    expect_eq(completer.error, None, "completer")
    grant_id = results[0].grant_id
    page = await W.agent.list_grants()
    expect(grant_id in {g.grant_id for g in page.grants}, "the agent sees the new grant")
    response = await W.agent.request("GET", W.provider("protected/gitlab"), provider="gitlab")
    await protected_ok(response, grant_id, "the agent uses it")


@step("create_connect_session agent= without a user -> BackendError")
async def _(ctx: Context) -> None:
    error = await expect_raises(
        sdk.BackendError, W.app.create_connect_session(agent=W.ready["agent_id"])
    )
    expect_eq(error.details.get("error"), "agent_requires_user_token", "error code")


@step("create_managed_secret_connect_session")
async def _(ctx: Context) -> None:
    session = await W.app.create_managed_secret_connect_session(
        template_slug="acme-api-key",
        delegated_agent_id=W.ready["agent_id"],
        user_token=W.ready["user_token"],
        requested_ttl_seconds=3600,
        delegated_agent_name="testkit-agent",
    )
    expect_type(session, models.ManagedSecretConnectSession, "result")
    expect(session.connect_url.startswith("http"), "connect_url")
    expect(session.expires_in > 0, "expires_in")


@step("create_managed_secret_connect_session unknown template -> GrantNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.GrantNotFoundError,
        W.app.create_managed_secret_connect_session(
            template_slug="no-such-template",
            delegated_agent_id=W.ready["agent_id"],
            user_token=W.ready["user_token"],
        ),
    )


@step("authenticate() completed, then verify_user_token")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["app_key"]) as app:
        with SessionCompleter(W.control, "auth", {"sub": "user-carol", "email": "c@example.com"}):
            result = await app.authenticate(timeout=20)
        expect_type(result, models.AuthResult, "result")
        expect_eq(result.user_info.get("email"), "c@example.com", "user_info")
        expect_eq(await app.verify_user_token(result.user_token), "user-carol", "verified sub")
        # authenticate() makes the client act for that user from now on
        await app.list_grants(limit=1)
        recorded = last_request("POST /sdk/grants/list")

        sent = body_of(recorded)
        expect_eq(sent.get("user_token"), result.user_token, "user_token forwarded")


@step("authenticate() failed sign-in -> AlterSDKError")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["app_key"]) as app:
        completion = {"outcome": "error", "error_message": "user cancelled"}
        with SessionCompleter(W.control, "auth", completion):
            error = await expect_raises(sdk.AlterSDKError, app.authenticate(timeout=20))
    expect("cancelled" in str(error), f"message: {error}")


@step("verify_user_token: seeded, forged, blank")
async def _(ctx: Context) -> None:
    expect_eq(await W.app.verify_user_token(W.ready["user_token"]), "user-alice", "seeded token")
    expect_eq(await W.app.verify_user_token("forged.jwt.value"), None, "forged token")
    expect_eq(await W.app.verify_user_token("   "), None, "blank token")
    issued = W.control.issue_user_token("user-dave")
    expect_eq(await W.app.verify_user_token(issued), "user-dave", "a token issued by control")
