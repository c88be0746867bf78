"""Scopes, identity and client life cycle: ``scopes.list``, ``me()``, key checks, the
actor id, ``base_url``, and what a closed client does.
"""

from __future__ import annotations

import uuid

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from world import W, raises_now, unused_key


@step("scopes.list (app key)")
async def _(ctx: Context) -> None:
    catalog = await W.app.scopes.list()
    expect_type(catalog, models.ScopeCatalog, "result")
    expect("grants" in catalog.resources, f"catalog resources: {sorted(catalog.resources)}")
    expect("read" in catalog.resources["grants"].verbs, "grants has the read verb")


@step("scopes.list (agent key)")
async def _(ctx: Context) -> None:
    catalog = await W.agent.scopes.list()
    expect_type(catalog, models.ScopeCatalog, "result")
    expect(catalog.scope_version >= 1, "scope_version is set")


@step("Agent.me")
async def _(ctx: Context) -> None:
    me = await W.agent.me()
    expect_type(me, models.AgentInfo, "result")
    expect_eq(str(me.id), W.ready["agent_id"], "agent id")
    expect_eq(me.name, "testkit-agent", "agent name")
    expect_eq(me.status, "active", "status")
    expect(me.last_used_at is not None, "last_used_at is set once the key was used")


@step("Agent.me with an app key -> MeRequiresAgentKeyError")
async def _(ctx: Context) -> None:
    async with sdk.Agent(api_key=W.ready["app_key"]) as wrong:
        await expect_raises(sdk.MeRequiresAgentKeyError, wrong.me())


@step("an unknown key -> InvalidKeyError")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=unused_key()) as stranger:
        await expect_raises(sdk.InvalidKeyError, stranger.agents.list())


@step("actor id cached from X-Alter-Actor-ID (caller=)")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=W.ready["app_key"], caller="conformance-service") as app:
        expect_eq(app.actor_id, None, "actor id before any call")
        await app.list_grants(limit=1)
        expect(app.actor_id is not None, "an actor id is cached after a call")
        uuid.UUID(app.actor_id)


@step("base_url follows ALTER_BASE_URL")
async def _(ctx: Context) -> None:
    expect_eq(W.app.base_url, W.ready["base_url"].rstrip("/"), "App.base_url")
    expect_eq(W.agent.base_url, W.ready["base_url"].rstrip("/"), "Agent.base_url")


@step("a closed client refuses calls")
async def _(ctx: Context) -> None:
    app = sdk.App(api_key=W.ready["app_key"])
    await app.scopes.list()
    await app.close()
    await expect_raises(sdk.AlterSDKError, app.list_grants())
    raises_now(sdk.AlterValueError, lambda: app.get_agent(W.ready["agent_id"]))
