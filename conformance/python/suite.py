"""Conformance suite: the official Python client ``alter-sdk==0.15.0`` against alter-testkit.

``cargo xtask conformance python`` starts the testkit binary and runs this file with the
binary's ready line (one JSON object) in ``ALTER_TESTKIT_READY``; it may also be given as
the first argument. Every step drives a public operation of the client's ``App`` or
``Agent`` and asserts on the typed result or on the exact exception class; the last
module sends hand-signed, tampered requests and expects 401.

Prints one line per failing step (every step with ``--verbose``), then exactly
``N passed, M failed``. Exits 1 when any step failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

READY_ENV = "ALTER_TESTKIT_READY"
REQUIRED = ("base_url", "provider_base_url", "app_key", "agent_key", "agent_id", "grants")


def load_ready_line(args: list[str]) -> dict[str, Any]:
    """The testkit's ready line, from the first argument or ``ALTER_TESTKIT_READY``."""
    raw = args[0] if args else os.environ.get(READY_ENV, "")
    if not raw.strip():
        raise SystemExit(f"give the testkit's ready line in {READY_ENV} or as the first argument")
    ready = json.loads(raw)
    missing = [name for name in REQUIRED if name not in ready]
    if missing:
        raise SystemExit(f"the ready line lacks {', '.join(missing)}")
    return ready


async def run(ready: dict[str, Any], verbose: bool) -> int:
    # Imported here: the client reads ALTER_BASE_URL, and the step modules register their
    # steps in import order, which is the order they run in.
    import alter_sdk as sdk

    import steps_identity  # noqa: F401
    import steps_agents  # noqa: F401
    import steps_keys  # noqa: F401
    import steps_grants  # noqa: F401
    import steps_retrieve  # noqa: F401
    import steps_errors  # noqa: F401
    import steps_proxy  # noqa: F401
    import steps_flows  # noqa: F401
    import steps_tamper  # noqa: F401
    from control import Control
    from harness import Context, run_steps, summary
    from world import W

    W.ready, W.grants = ready, ready["grants"]
    W.provider_base = ready["provider_base_url"].rstrip("/")
    W.control = Control(ready["base_url"])
    W.app = sdk.App(api_key=ready["app_key"])
    W.agent = sdk.Agent(api_key=ready["agent_key"])
    try:
        outcomes = await run_steps(Context(ready), verbose)
    finally:
        await W.app.close()
        await W.agent.close()
    print(summary(outcomes), flush=True)
    return 0 if all(outcome.error is None for outcome in outcomes) else 1


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in ("-v", "--verbose")]
    verbose = len(args) < len(sys.argv) - 1 or os.environ.get("ALTER_CONFORMANCE_VERBOSE") == "1"
    ready = load_ready_line(args)
    os.environ["ALTER_BASE_URL"] = ready["base_url"]
    # The client warns about plain-HTTP loopback on every construction; expected here.
    logging.getLogger("alter_sdk").setLevel(logging.ERROR)
    return asyncio.run(run(ready, verbose))


if __name__ == "__main__":
    sys.exit(main())
