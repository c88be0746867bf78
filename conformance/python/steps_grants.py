"""Grants and principals: ``list_grants`` for both principals, managed-secret grants
for user, group, system and agent principals, ``revoke_grant`` and both
``revoke_delegation`` paths.
"""

from __future__ import annotations

import uuid

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from world import W, last_request, protected_ok


@step("App.list_grants")
async def _(ctx: Context) -> None:
    page = await W.app.list_grants()
    expect_type(page, models.UnifiedGrantListResult, "result")
    by_id = {item.grant_id: item for item in page.grants}
    for name in ("oauth_bearer", "api_key_header", "hitl", "agent_delegated"):
        expect(W.grants[name] in by_id, f"seeded grant {name} is listed")
    bearer = by_id[W.grants["oauth_bearer"]]
    expect_type(bearer, models.OAuthGrantItem, "item")
    expect_eq(bearer.provider_id, "google", "provider_id")
    expect_eq(bearer.account_identifier, "alice@example.com", "account_identifier")
    delegated = by_id[W.grants["agent_delegated"]]
    expect(W.ready["agent_id"] in delegated.delegated_agent_ids, "delegated_agent_ids")


@step("App.list_grants provider_id filter and pagination")
async def _(ctx: Context) -> None:
    google = await W.app.list_grants(provider_id="google")
    expect(google.grants, "at least one google grant")
    expect(all(g.provider_id == "google" for g in google.grants), "only google grants")
    first = await W.app.list_grants(limit=2)
    expect_eq(len(first.grants), 2, "page size")
    expect(first.has_more and first.total > 2, "has_more and total")
    second = await W.app.list_grants(limit=2, offset=2)
    overlap = {g.grant_id for g in first.grants} & {g.grant_id for g in second.grants}
    expect(not overlap, "pages do not overlap")


@step("Agent.list_grants: delegations and own managed secrets")
async def _(ctx: Context) -> None:
    page = await W.agent.list_grants()
    expect_type(page, models.UnifiedGrantListResult, "result")
    by_id = {item.grant_id: item for item in page.grants}
    expect(W.grants["agent_delegated"] in by_id, "the delegated grant is visible")
    expect(W.grants["oauth_bearer"] not in by_id, "an undelegated grant is not visible")
    secret = by_id.get(W.grants["managed_secret_agent"])
    expect_type(secret, models.ManagedSecretGrantItem, "managed-secret item")
    expect_eq(secret.managed_secret_id, W.ready["managed_secret_id"], "managed_secret_id")
    expect_eq(secret.agent_id, W.ready["agent_id"], "agent_id")


@step("create_managed_secret_grant: user principal")
async def _(ctx: Context) -> None:
    result = await W.app.create_managed_secret_grant(
        W.ready["managed_secret_id"],
        principal=models.UserPrincipal(user_token=W.ready["user_token"], label="alice"),
        grant_policy={"max_ttl_seconds": 3600},
    )
    expect_type(result, models.CreateGrantResult, "result")
    expect_eq(result.principal_type, "user", "principal_type")
    expect_eq(result.label, "alice", "label")


@step("create_managed_secret_grant: group principal")
async def _(ctx: Context) -> None:
    result = await W.app.create_managed_secret_grant(
        W.ready["managed_secret_id"],
        principal=models.GroupPrincipal(
            external_group_id="eng", idp_id=str(uuid.uuid4()), label="engineering"
        ),
    )
    expect_type(result, models.CreateGrantResult, "result")
    expect_eq(result.principal_type, "group", "principal_type")


@step("create_managed_secret_grant: system principal")
async def _(ctx: Context) -> None:
    result = await W.app.create_managed_secret_grant(
        W.ready["managed_secret_id"], principal=models.SystemPrincipal(label="cron")
    )
    expect_type(result, models.CreateGrantResult, "result")
    expect_eq(result.principal_type, "system", "principal_type")


@step("create_managed_secret_grant: agent principal (agent key)")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["agent_key"]) as agent_as_app:
        result = await agent_as_app.create_managed_secret_grant(
            W.ready["managed_secret_id"], principal=models.AgentPrincipal(label="self")
        )
    expect_type(result, models.CreateGrantResult, "result")
    expect_eq(result.principal_type, "agent", "principal_type")
    page = await W.agent.list_grants()
    expect(result.grant_id in {g.grant_id for g in page.grants}, "the agent now lists it")
    # The grant hands out the managed secret's own credential, which the seeded agent grant
    # shares, so the provider can tell that the secret arrived but not through which grant.
    response = await W.agent.request(
        "GET", W.provider("protected/own-secret"), grant_id=result.grant_id
    )
    body = response.json()
    expect_eq(response.status_code, 200, f"provider status ({body})")
    expect_eq(body.get("placements"), ["header:x-acme-key"], "where the secret arrived")


@step("create_managed_secret_grant unknown secret -> GrantNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.GrantNotFoundError,
        W.app.create_managed_secret_grant(
            str(uuid.uuid4()), principal=models.SystemPrincipal(label=None)
        ),
    )


@step("create_managed_secret_grant bad user token -> ReAuthRequiredError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.ReAuthRequiredError,
        W.app.create_managed_secret_grant(
            W.ready["managed_secret_id"],
            principal=models.UserPrincipal(user_token="not-a-token-the-fake-issued", label="x"),
        ),
    )


@step("revoke_grant, then GrantRevokedError and GrantNotFoundError")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(provider_id="dropbox", account_identifier="r@example.com")
    result = await W.app.revoke_grant(grant_id, reason="conformance")
    expect_type(result, models.RevokeGrantResult, "result")
    expect(result.success, "success")
    expect_eq(result.grant_id, grant_id, "grant_id")
    expect(bool(result.revoked_at), "revoked_at")
    listed = await W.app.list_grants(provider_id="dropbox")
    statuses = {g.grant_id: g.status for g in listed.grants}
    expect(statuses.get(grant_id, "revoked") == "revoked", f"listed status: {statuses}")
    await expect_raises(
        sdk.GrantRevokedError, W.app.request("GET", W.provider("echo/x"), grant_id=grant_id)
    )
    await expect_raises(sdk.GrantNotFoundError, W.app.revoke_grant(grant_id))


@step("revoke_grant unknown grant -> GrantNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(sdk.GrantNotFoundError, W.app.revoke_grant(str(uuid.uuid4())))


@step("App.revoke_delegation (operator path)")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(
        provider_id="notion",
        account_identifier="d1@example.com",
        delegated_to=[W.ready["agent_id"]],
    )
    response = await W.agent.request("GET", W.provider("protected/d1"), grant_id=grant_id)
    await protected_ok(response, grant_id, "before the revocation")
    expect_eq(await W.app.revoke_delegation(grant_id, W.ready["agent_id"]), None, "result")
    expect_eq(await W.app.revoke_delegation(grant_id, W.ready["agent_id"]), None, "again")
    recorded = W.control.requests("DELETE /sdk/grants/{grant_id}/delegations/{agent_id}")
    expect_eq([r["status"] for r in recorded[-2:]], [204, 204], "statuses (idempotent)")
    await expect_raises(
        sdk.NoDelegatedGrantError,
        W.agent.request("GET", W.provider("protected/d1"), grant_id=grant_id),
    )
    response = await W.app.request("GET", W.provider("protected/d1"), grant_id=grant_id)
    await protected_ok(response, grant_id, "the grant itself stays usable by the operator")


@step("Agent.revoke_delegation (self path)")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(
        provider_id="asana", account_identifier="d2@example.com", delegated_to=[W.ready["agent_id"]]
    )
    await W.agent.request("GET", W.provider("echo/d2"), grant_id=grant_id)
    expect_eq(await W.agent.revoke_delegation(grant_id), None, "result")
    recorded = last_request("DELETE /sdk/grants/{grant_id}/delegations/me")
    expect_eq(recorded["status"], 204, "status")
    await expect_raises(
        sdk.NoDelegatedGrantError, W.agent.request("GET", W.provider("echo/d2"), grant_id=grant_id)
    )


@step("operator revoke_delegation with an agent key -> PolicyViolationError")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["agent_key"]) as agent_as_app:
        error = await expect_raises(
            sdk.PolicyViolationError,
            agent_as_app.revoke_delegation(W.grants["agent_delegated"], W.ready["agent_id"]),
        )
    expect_eq(error.policy_error, "use_self_revoke_path", "policy_error")
