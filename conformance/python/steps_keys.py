"""Scoped keys: ``keys.derive``, ``keys.rotate``, ``keys.revoke`` on App and Agent, and
how a revoked or too-narrow key is refused.
"""

from __future__ import annotations


import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from world import W, last_request


@step("keys.derive (app key)")
async def _(ctx: Context) -> None:
    minted = await W.app.keys.derive(
        scopes=["grants:read", "keys:admin"], expires_in=600, name="conformance-derived"
    )
    expect_type(minted, models.MintedKey, "result")
    expect_eq(minted.key_type, "dk", "key_type")
    expect_eq(sorted(minted.scopes), ["grants:read", "keys:admin"], "scopes")
    expect_eq(str(minted.parent_key_id), str(W.ready["app_key_id"]), "parent_key_id")
    expect(minted.expires_at is not None, "expires_at")
    expect(sdk.is_valid_key(minted.api_key) and minted.api_key.startswith("alter_dk_"), "key")
    async with sdk.App(api_key=minted.api_key) as derived:
        page = await derived.list_grants(limit=5)
    expect_type(page, models.UnifiedGrantListResult, "list through the derived key")
    ctx.values.update(derived_key=minted.api_key, derived_id=str(minted.id))


@step("derived key without tokens:retrieve -> InsufficientScopeError")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=ctx.need("derived_key")) as derived:
        error = await expect_raises(
            sdk.InsufficientScopeError,
            derived.request("GET", W.provider("echo/x"), grant_id=W.grants["oauth_bearer"]),
        )
    expect("tokens:retrieve" in error.missing, f"missing scopes: {error.missing}")


@step("keys.derive broader than the caller -> BackendError")
async def _(ctx: Context) -> None:
    error = await expect_raises(
        sdk.BackendError, W.agent.keys.derive(scopes=["agents:write"], expires_in=60)
    )
    expect_eq(error.details.get("error"), "constraint_not_narrowing", "error code")


@step("keys.derive (agent key)")
async def _(ctx: Context) -> None:
    minted = await W.agent.keys.derive(scopes=["tokens:retrieve"], expires_in=60)
    expect_type(minted, models.MintedKey, "result")
    expect_eq(str(minted.parent_key_id), str(W.ready["agent_key_id"]), "parent_key_id")


@step("keys.rotate: successor minted, old key deprecated but working")
async def _(ctx: Context) -> None:
    rotated = await W.app.keys.rotate(key_id=ctx.need("derived_id"), overlap_days=1)
    expect_type(rotated, models.MintedKey, "result")
    expect(str(rotated.id) != ctx.need("derived_id"), "a new key id")
    expect_eq(sorted(rotated.scopes), ["grants:read", "keys:admin"], "same scopes")
    async with sdk.App(api_key=ctx.need("derived_key")) as old:
        await old.list_grants(limit=1)
    ctx.values.update(rotated_key=rotated.api_key, rotated_id=str(rotated.id))


@step("keys.revoke, then the key is refused")
async def _(ctx: Context) -> None:
    info = await W.app.keys.revoke(key_id=ctx.need("rotated_id"))
    expect_type(info, models.APIKeyInfo, "result")
    expect(info.revoked_at is not None, "revoked_at is set")
    async with sdk.App(api_key=ctx.need("rotated_key")) as revoked:
        error = await expect_raises(sdk.BackendError, revoked.scopes.list())
    expect_eq(error.details.get("error"), "key_revoked", "error code")


@step("keys.revoke of the signing key needs force=True")
async def _(ctx: Context) -> None:
    async with sdk.App(api_key=ctx.need("derived_key")) as derived:
        refused = await expect_raises(
            sdk.BackendError, derived.keys.revoke(key_id=ctx.need("derived_id"))
        )
        expect_eq(refused.details.get("error"), "revoking_current_key", "error code")
        info = await derived.keys.revoke(key_id=ctx.need("derived_id"), force=True)
        expect_type(info, models.APIKeyInfo, "result")
        expect(info.revoked_at is not None, "revoked_at is set")
    forced = last_request("DELETE /sdk/keys/{key_id}")
    expect(forced["path"].endswith("?force=true"), f"query: {forced['path']}")


@step("revoking an agent key cascades to the keys derived from it")
async def _(ctx: Context) -> None:
    minted = await W.app.agents.mint_key(W.ready["agent_id"])
    async with sdk.Agent(api_key=minted.api_key) as parent:
        child = await parent.keys.derive(scopes=["grants:read"], expires_in=60)
    async with sdk.Agent(api_key=child.api_key) as derived:
        await derived.list_grants(limit=1)
        await W.app.agents.revoke_key(W.ready["agent_id"], str(minted.key_id))
        error = await expect_raises(sdk.BackendError, derived.list_grants(limit=1))
    expect_eq(error.details.get("error"), "key_revoked", "error code")
