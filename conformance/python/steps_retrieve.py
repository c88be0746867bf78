"""Retrieve mode: ``request()`` for every injection style against the fake provider's
``/protected`` check, ``boto3_client``, identity modes, impersonation, ``trace``, audit
rows, retry info, and the provider-side errors.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
import warnings
from typing import Any

import alter_sdk as sdk
from alter_sdk import models

from harness import Context, expect, expect_eq, expect_raises, expect_type, step
from world import W, body_of, eventually, header_of, last_request, protected_ok, raises_now


STYLES = ("oauth_bearer", "api_key_header", "query_param", "multi_header", "aws_sigv4")


def _style_step(style: str) -> None:
    @step(f"request() {style}: credential in the right place")
    async def _(ctx: Context) -> None:
        url = W.provider(f"protected/{style}")
        response = await W.app.request("GET", url, grant_id=W.grants[style])
        body = await protected_ok(response, W.grants[style], style)
        expect(body.get("placements"), f"the fake reports where it found it: {body}")


for _style in STYLES:
    _style_step(_style)


@step("boto3_client: an AWS SDK call signed with SigV4 through the vault")
async def _(ctx: Context) -> None:
    # botocore takes its endpoint from AWS_ENDPOINT_URL; the client is checked to point at
    # the fake provider before any call is made, so nothing ever leaves loopback.
    endpoint = W.provider("protected")
    saved = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        client = await W.app.boto3_client(
            "dynamodb", grant_id=W.grants["aws_sigv4"], region_name="us-east-1", reason="boto3"
        )
    finally:
        if saved is None:
            del os.environ["AWS_ENDPOINT_URL"]
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved
    expect_eq(client.meta.endpoint_url, endpoint, "boto3 endpoint (must be the fake provider)")
    answer = await asyncio.to_thread(client.list_tables)
    expect_eq(answer["ResponseMetadata"]["HTTPStatusCode"], 200, "provider status")
    recorded = last_request("* /protected/**")
    expect_eq(recorded["status"], 200, "the fake provider verified the SigV4 signature")
    expect_eq(header_of(recorded, "x-amz-target"), "DynamoDB_20120810.ListTables", "operation")


@step("request() POST with json, query, headers and path params")
async def _(ctx: Context) -> None:
    response = await W.app.request(
        "POST",
        W.provider("echo/items/{item_id}"),
        grant_id=W.grants["api_key_header"],
        json={"name": "widget", "count": 2},
        query_params={"page": "2", "q": "a b"},
        extra_headers={"X-Trace": "conf-1"},
        path_params={"item_id": "42"},
        reason="conformance check",
    )
    expect_eq(response.status_code, 200, "status")
    echo = response.json()
    expect_eq(echo["method"], "POST", "method")
    expect_eq(echo["path"], "/echo/items/42", "templated path")
    expect_eq(echo["query_params"].get("q"), "a b", "query parameter")
    expect_eq(echo["headers"].get("x-trace"), "conf-1", "extra header")
    expect("x-api-key" in echo["headers"], "injected credential header")

    sent = json.loads(base64.b64decode(echo["body_b64"]))
    expect_eq(sent, {"name": "widget", "count": 2}, "JSON body")
    token = last_request("POST /sdk/token")
    body = body_of(token)
    expect_eq(body.get("reason"), "conformance check", "reason sent to /sdk/token")


@step("request() writes an audit row without the credential")
async def _(ctx: Context) -> None:
    marker = f"audit-{uuid.uuid4().hex[:8]}"
    await W.app.request(
        "GET",
        W.provider(f"echo/{marker}"),
        grant_id=W.grants["oauth_bearer"],
        context={"k": marker},
    )

    def find() -> Any:
        return [row for row in W.control.audit_rows() if marker in json.dumps(row)]

    rows = await eventually("an audit row for the call", find)
    row = rows[-1]["log"]
    expect_eq(row["grant_id"], W.grants["oauth_bearer"], "grant_id")
    expect_eq(row["url"], W.provider(f"echo/{marker}"), "url")
    expect_eq(row["response_status"], 200, "response_status")
    expect_eq(row["context"], {"k": marker}, "context")
    sent = {name.lower() for name in (row["request_headers"] or {})}
    expect("authorization" not in sent, f"no credential among the request headers: {sent}")


@step("request() by agent: provider mode through a delegation")
async def _(ctx: Context) -> None:
    response = await W.agent.request("GET", W.provider("protected/github"), provider="github")
    await protected_ok(response, W.grants["agent_delegated"], "delegated github grant")


@step("request() by agent: user_token / app_user_id pick the user")
async def _(ctx: Context) -> None:
    response = await W.agent.request(
        "GET", W.provider("protected/bob"), provider="github", app_user_id="user-bob"
    )
    await protected_ok(response, W.grants["agent_delegated"], "bob's delegated grant")
    await expect_raises(
        sdk.NoDelegatedGrantError,
        W.agent.request(
            "GET", W.provider("echo/x"), provider="github", user_token=W.ready["user_token"]
        ),
    )


@step("request() by agent: its managed-secret grant")
async def _(ctx: Context) -> None:
    grant_id = W.grants["managed_secret_agent"]
    response = await W.agent.request("GET", W.provider("protected/acme"), grant_id=grant_id)
    await protected_ok(response, grant_id, "managed secret")


@step("request() by app: provider mode with user_token")
async def _(ctx: Context) -> None:
    response = await W.app.request(
        "GET", W.provider("protected/google"), provider="google", user_token=W.ready["user_token"]
    )
    await protected_ok(response, W.grants["oauth_bearer"], "alice's google grant")


@step("request() by app: user_token_getter supplies the user")
async def _(ctx: Context) -> None:
    async def current_user() -> str:
        return W.ready["user_token"]

    async with sdk.App(api_key=W.ready["app_key"], user_token_getter=current_user) as app:
        response = await app.request("GET", W.provider("protected/getter"), provider="google")
        await protected_ok(response, W.grants["oauth_bearer"], "the getter's user's grant")
        page = await app.list_grants()

    sent = json.loads(base64.b64decode(last_request("POST /sdk/token")["body"]))
    expect_eq(sent.get("user_token"), W.ready["user_token"], "user_token sent to /sdk/token")
    owners = {g.grant_id for g in page.grants}
    expect(W.grants["oauth_bearer"] in owners, "the user's grant is listed")
    expect(W.grants["agent_delegated"] not in owners, "another user's grant is not listed")


@step("request() two accounts -> AmbiguousGrantError; account= picks one")
async def _(ctx: Context) -> None:
    second = W.control.add_grant(
        provider_id="google", account_identifier="alice.work@example.com", app_user_id="user-alice"
    )
    error = await expect_raises(
        sdk.AmbiguousGrantError,
        W.app.request(
            "GET", W.provider("echo/x"), provider="google", user_token=W.ready["user_token"]
        ),
    )
    expect_eq(error.provider_id, "google", "provider_id")
    expect_eq(
        sorted(error.account_identifiers),
        ["alice.work@example.com", "alice@example.com"],
        "account_identifiers",
    )
    expect_eq(sorted(error.grant_ids), sorted([W.grants["oauth_bearer"], second]), "grant_ids")
    expect_eq(error.account_was_provided, False, "account_was_provided")
    response = await W.app.request(
        "GET",
        W.provider("protected/work"),
        provider="google",
        user_token=W.ready["user_token"],
        account="alice.work@example.com",
    )
    await protected_ok(response, second, "account= picks the grant")


@step("App.get_agent impersonation: provider mode and the grant_id warning")
async def _(ctx: Context) -> None:
    acting = W.app.get_agent(W.ready["agent_id"])
    expect_type(acting, sdk.Agent, "result")
    response = await acting.request("GET", W.provider("protected/imp"), provider="github")
    await protected_ok(response, W.grants["agent_delegated"], "impersonated delegation")
    recorded = last_request("POST /sdk/token")
    expect_eq(header_of(recorded, "x-alter-caller"), W.ready["agent_id"], "X-Alter-Caller")
    expect_eq(header_of(recorded, "x-alter-caller-type"), "agent", "X-Alter-Caller-Type")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await acting.request("GET", W.provider("echo/imp"), grant_id=W.grants["agent_delegated"])
        await acting.request("GET", W.provider("echo/imp"), grant_id=W.grants["agent_delegated"])
    expect_eq(len(caught), 1, "impersonation warnings on two grant_id calls")
    page = await acting.list_grants()
    expect(W.grants["agent_delegated"] in {g.grant_id for g in page.grants}, "agent's view")
    await acting.close()


@step("App.get_agent with a bad id -> AlterValueError")
async def _(ctx: Context) -> None:
    raises_now(sdk.AlterValueError, lambda: W.app.get_agent("not-a-uuid"))


@step("Agent.trace sends its context with nested calls")
async def _(ctx: Context) -> None:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    async with W.agent.trace(run_id=run_id, thread_id="thread-7", role="writer"):
        await W.agent.request(
            "GET", W.provider("echo/traced"), grant_id=W.grants["managed_secret_agent"]
        )
    recorded = last_request("POST /sdk/token")
    raw = header_of(recorded, "x-alter-context")
    expect(raw is not None, "X-Alter-Context was sent")
    sent = json.loads(raw)
    expect_eq(sent.get("run_id"), run_id, "run_id")
    expect_eq(sent.get("thread_id"), "thread-7", "thread_id")
    expect_eq(sent.get("role"), "writer", "metadata")
    expect(sent.get("agent"), "the agent's identity")
    await W.agent.request(
        "GET", W.provider("echo/untraced"), grant_id=W.grants["managed_secret_agent"]
    )
    after = last_request("POST /sdk/token")
    expect_eq(header_of(after, "x-alter-context"), None, "no context outside the block")


@step("request() exposes retry_info and last_retry_info")
async def _(ctx: Context) -> None:
    retry = {
        "total_attempts": 2,
        "successful_attempt": 2,
        "errors": [{"attempt": 1, "error": "upstream 503", "error_type": "transient_refresh",
                    "delay_s": 0.5}],
    }
    grant_id = W.control.add_grant(provider_id="zoom", retry_info=retry)
    response = await W.app.request("GET", W.provider("echo/retry"), grant_id=grant_id)
    info = response.retry_info
    expect_type(info, models.RetryInfo, "response.retry_info")
    expect_eq(info.total_attempts, 2, "total_attempts")
    expect_eq(info.errors[0].error_type, "transient_refresh", "error_type")
    expect_eq(W.app.last_retry_info, info, "last_retry_info")


@step("provider 403 challenge -> ScopeReauthRequiredError, report stored")
async def _(ctx: Context) -> None:
    error = await expect_raises(
        sdk.ScopeReauthRequiredError,
        W.app.request("GET", W.provider("status/403?scope=repo+admin:org"),
                    grant_id=W.grants["oauth_bearer"]),
    )
    expect_eq(error.status_code, 403, "status_code")
    expect_eq(error.missing_scopes, ["repo", "admin:org"], "missing_scopes")
    expect_eq(error.grant_id, W.grants["oauth_bearer"], "grant_id")

    def find() -> Any:
        return [r for r in W.control.scope_reports() if "admin:org" in json.dumps(r)]

    await eventually("a scope-mismatch report", find)


@step("backend scope_mismatch -> ScopeReauthRequiredError")
async def _(ctx: Context) -> None:
    grant_id = W.control.add_grant(provider_id="figma", scope_mismatch="refuse")
    error = await expect_raises(
        sdk.ScopeReauthRequiredError, W.app.request("GET", W.provider("echo/x"), grant_id=grant_id)
    )
    expect_eq(error.grant_id, grant_id, "grant_id")


@step("provider 500 and 401 -> ProviderAPIError")
async def _(ctx: Context) -> None:
    for status in (500, 401):
        error = await expect_raises(
            sdk.ProviderAPIError,
            W.app.request("GET", W.provider(f"status/{status}"), grant_id=W.grants["oauth_bearer"]),
        )
        expect_eq(error.status_code, status, "status_code")


@step("provider 3xx is returned, not followed")
async def _(ctx: Context) -> None:
    response = await W.app.request(
        "GET", W.provider("status/302"), grant_id=W.grants["oauth_bearer"]
    )
    expect_eq(response.status_code, 302, "status")
    expect(response.headers.get("location"), "Location header")


@step("provider drops the connection -> NetworkError")
async def _(ctx: Context) -> None:
    await expect_raises(
        sdk.NetworkError,
        W.app.request("GET", W.provider("drop"), grant_id=W.grants["oauth_bearer"]),
    )
