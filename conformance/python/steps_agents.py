"""Agents and their keys through ``App.agents``: create (with idempotent replay),
list, get, get_by_name, update, mint/list/deprecate/undeprecate/revoke keys, delete, and
every agents-route error class the fake can produce.
"""

from __future__ import annotations

import uuid

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from tamper import SignedRequest
from world import W, last_request


@step("agents.create with Idempotency-Key")
async def _(ctx: Context) -> None:
    name = f"conf-bot-{uuid.uuid4().hex[:8]}"
    idempotency_key = f"conf-{uuid.uuid4()}"
    created = await W.app.agents.create(
        name=name,
        display_name="Conformance Bot",
        scopes={"github": ["repo"]},
        metadata={"team": "conformance"},
        idempotency_key=idempotency_key,
    )
    expect_type(created, models.AgentCreateResult, "result")
    expect_eq(created.name, name, "name")
    expect_eq(created.display_name, "Conformance Bot", "display_name")
    expect_eq(created.metadata, {"team": "conformance"}, "metadata")
    expect(created.api_key is not None and created.api_key.startswith("alter_ak_"), "agent key")
    expect(sdk.is_valid_key(created.api_key), "the minted key passes is_valid_key")
    ctx.values.update(
        bot_name=name,
        bot_id=str(created.id),
        bot_key=created.api_key,
        bot_key_id=str(created.key_id),
        bot_idempotency_key=idempotency_key,
    )


@step("agents.create replay returns the same agent without a key")
async def _(ctx: Context) -> None:
    replay = await W.app.agents.create(
        name=ctx.need("bot_name"),
        display_name="Conformance Bot",
        scopes={"github": ["repo"]},
        metadata={"team": "conformance"},
        idempotency_key=ctx.need("bot_idempotency_key"),
    )
    expect_type(replay, models.AgentCreateResult, "result")
    expect_eq(str(replay.id), ctx.need("bot_id"), "agent id on replay")
    expect_eq(replay.api_key, None, "api_key on replay")
    expect_eq(str(replay.key_id), ctx.need("bot_key_id"), "key id on replay")


@step("agents.create same key, other body -> IdempotencyKeyBodyMismatchError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.IdempotencyKeyBodyMismatchError,
        W.app.agents.create(
            name=ctx.need("bot_name") + "-other",
            idempotency_key=ctx.need("bot_idempotency_key"),
        ),
    )


@step("agents.create taken name -> AgentNameExistsError")
async def _(ctx: Context) -> None:
    await expect_raises(sdk.AgentNameExistsError, W.app.agents.create(name=ctx.need("bot_name")))


@step("agents.list and pagination")
async def _(ctx: Context) -> None:
    page = await W.app.agents.list()
    expect_type(page, models.AgentListResult, "result")
    ids = {str(agent.id) for agent in page.agents}
    expect(W.ready["agent_id"] in ids and ctx.need("bot_id") in ids, "both agents are listed")
    first = await W.app.agents.list(limit=1)
    expect_eq(len(first.agents), 1, "page size")
    expect(first.has_more, "has_more with limit=1")
    second = await W.app.agents.list(limit=1, offset=1)
    expect(second.agents[0].id != first.agents[0].id, "offset moves to the next agent")


@step("agents.get")
async def _(ctx: Context) -> None:
    agent = await W.app.agents.get(ctx.need("bot_id"))
    expect_type(agent, models.AgentInfo, "result")
    expect_eq(agent.name, ctx.need("bot_name"), "name")


@step("agents.get unknown id -> AgentNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(sdk.AgentNotFoundError, W.app.agents.get(str(uuid.uuid4())))


@step("agents.get_by_name (found and missing)")
async def _(ctx: Context) -> None:
    found = await W.app.agents.get_by_name(ctx.need("bot_name"))
    expect_type(found, models.AgentInfo, "result")
    expect_eq(str(found.id), ctx.need("bot_id"), "id")
    expect_eq(await W.app.agents.get_by_name("no-such-agent-anywhere"), None, "missing name")


@step("agents with non-ASCII names and display names round-trip")
async def _(ctx: Context) -> None:
    # The name travels form-encoded in get_by_name's signed query; the display name is
    # escaped JSON in a signed body.
    name = f"ops bot/eu+{uuid.uuid4().hex[:6]} é"
    created = await W.app.agents.create(name=name, display_name="Zoë ☃ «bot»")
    expect_eq(created.display_name, "Zoë ☃ «bot»", "display_name")
    found = await W.app.agents.get_by_name(name)
    expect(found is not None, "get_by_name finds it")
    expect_eq(str(found.id), str(created.id), "id")
    await W.app.agents.delete(str(created.id))


@step("agents.update broadens scopes and sets fields")
async def _(ctx: Context) -> None:
    updated = await W.app.agents.update(
        ctx.need("bot_id"),
        display_name="Renamed Bot",
        metadata={"team": "conformance", "tier": "gold"},
        scopes={"github": ["repo", "read:org"], "slack": ["chat:write"]},
        policy={"hitl": {"enabled": False}},
    )
    expect_type(updated, models.AgentInfo, "result")
    expect_eq(updated.display_name, "Renamed Bot", "display_name")
    expect_eq(updated.metadata.get("tier"), "gold", "metadata")
    expect_eq(sorted(updated.scopes), ["github", "slack"], "scopes")
    expect(updated.version >= 2, f"version increases (is {updated.version})")


@step("agents.update narrowing -> AgentScopeNarrowingNotSupportedError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.AgentScopeNarrowingNotSupportedError,
        W.app.agents.update(ctx.need("bot_id"), scopes={"github": ["repo"]}),
    )


@step("agents.mint_key, and the new key works")
async def _(ctx: Context) -> None:
    minted = await W.app.agents.mint_key(ctx.need("bot_id"))
    expect_type(minted, models.AgentKeyMintResult, "result")
    expect(minted.api_key is not None and sdk.is_valid_key(minted.api_key), "plaintext key")
    async with sdk.Agent(api_key=minted.api_key) as second:
        me = await second.me()
    expect_eq(str(me.id), ctx.need("bot_id"), "me() through the minted key")
    ctx.values.update(bot_key2=minted.api_key, bot_key2_id=str(minted.key_id))


@step("agents.list_keys")
async def _(ctx: Context) -> None:
    keys = await W.app.agents.list_keys(ctx.need("bot_id"))
    expect_type(keys, models.AgentKeyList, "result")
    ids = {str(key.key_id) for key in keys.items}
    expect_eq(ids, {ctx.need("bot_key_id"), ctx.need("bot_key2_id")}, "key ids")


@step("agents.deprecate_key: marked, still authenticates")
async def _(ctx: Context) -> None:
    key = await W.app.agents.deprecate_key(ctx.need("bot_id"), ctx.need("bot_key_id"))
    expect_type(key, models.AgentKey, "result")
    expect(key.deprecated_at is not None, "deprecated_at is set")
    async with sdk.Agent(api_key=ctx.need("bot_key")) as old:
        me = await old.me()
    expect_eq(str(me.id), ctx.need("bot_id"), "me() through the deprecated key")
    # 0.15 ignores the deprecation mark, so it is read from a hand-signed call.
    signed = SignedRequest.build(ctx.need("bot_key"), "GET", "/sdk/agents/me")
    status, _, headers = signed.exchange(W.ready["base_url"])
    expect_eq(status, 200, "status")
    expect_eq(headers.get("x-alter-key-deprecated"), "true", "X-Alter-Key-Deprecated")


@step("agents.undeprecate_key")
async def _(ctx: Context) -> None:
    key = await W.app.agents.undeprecate_key(ctx.need("bot_id"), ctx.need("bot_key_id"))
    expect_type(key, models.AgentKey, "result")
    expect_eq(key.deprecated_at, None, "deprecated_at")


@step("agents.revoke_key, then the key fails with KeyRevokedError")
async def _(ctx: Context) -> None:
    key = await W.app.agents.revoke_key(ctx.need("bot_id"), ctx.need("bot_key_id"))
    expect_type(key, models.AgentKey, "result")
    expect(key.revoked_at is not None, "revoked_at is set")
    async with sdk.Agent(api_key=ctx.need("bot_key")) as revoked:
        await expect_raises(sdk.KeyRevokedError, revoked.me())


@step("agents.revoke_key twice -> KeyAlreadyRevokedError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.KeyAlreadyRevokedError,
        W.app.agents.revoke_key(ctx.need("bot_id"), ctx.need("bot_key_id")),
    )


@step("agents.revoke_key of the last key -> LastActiveKeyError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.LastActiveKeyError,
        W.app.agents.revoke_key(ctx.need("bot_id"), ctx.need("bot_key2_id")),
    )


@step("agents.revoke_key unknown key -> KeyNotFoundError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.KeyNotFoundError, W.app.agents.revoke_key(ctx.need("bot_id"), str(uuid.uuid4()))
    )


@step("agents.revoke_key force=True revokes the last key")
async def _(ctx: Context) -> None:
    key = await W.app.agents.revoke_key(ctx.need("bot_id"), ctx.need("bot_key2_id"), force=True)
    expect_type(key, models.AgentKey, "result")
    expect(key.revoked_at is not None, "revoked_at is set")
    forced = last_request("DELETE /sdk/agents/{agent_id}/keys/{key_id}")
    expect(forced["path"].endswith("?force=true"), f"query of the forced call: {forced['path']}")


@step("agents.delete")
async def _(ctx: Context) -> None:
    deleted = await W.app.agents.delete(ctx.need("bot_id"))
    expect_type(deleted, models.AgentInfo, "result")
    expect_eq(deleted.status, "revoked", "status")
    listed = {str(agent.id) for agent in (await W.app.agents.list()).agents}
    expect(ctx.need("bot_id") not in listed, "a revoked agent is not listed by default")
    everything = await W.app.agents.list(include_revoked=True)
    expect(ctx.need("bot_id") in {str(a.id) for a in everything.agents}, "include_revoked=True")


@step("agents.create replay after delete -> IdempotencyKeyAgentRevokedError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.IdempotencyKeyAgentRevokedError,
        W.app.agents.create(
            name=ctx.need("bot_name"),
            display_name="Conformance Bot",
            scopes={"github": ["repo"]},
            metadata={"team": "conformance"},
            idempotency_key=ctx.need("bot_idempotency_key"),
        ),
    )


@step("agents.update / mint_key on a revoked agent -> AgentRevokedError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.AgentRevokedError, W.app.agents.update(ctx.need("bot_id"), display_name="x")
    )
    await expect_raises(sdk.AgentRevokedError, W.app.agents.mint_key(ctx.need("bot_id")))


@step("agents.* with an agent key -> AgentCannotMintSubagentsError")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["agent_key"]) as agent_as_app:
        await expect_raises(
            sdk.AgentCannotMintSubagentsError, agent_as_app.agents.create(name="sub-agent")
        )
        await expect_raises(sdk.AgentCannotMintSubagentsError, agent_as_app.agents.list())
