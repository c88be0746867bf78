"""Throughput of the official Python SDK (alter-sdk 0.15.0) against alter-testkit.

Started by `cargo xtask bench`, which saves the testkit's ready line to a file. For each
in-flight level it keeps that many calls going on one asyncio loop with one App for the
given time, and prints one JSON line per level:

    {"client": "python", "route": "proxy", "inflight": 16, "calls": N, "errors": N,
     "secs": S, "per_sec": R, "cpu_secs": C}

where cpu_secs is the CPU time (user + system) the interpreter used while measuring.

usage: driver.py --ready FILE --route proxy|approval --inflight 1,16,64 --secs S
"""

import argparse
import asyncio
import json
import os
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready", required=True)
    parser.add_argument("--route", choices=["proxy", "approval"], required=True)
    parser.add_argument("--inflight", required=True)
    parser.add_argument("--secs", type=float, required=True)
    return parser.parse_args()


async def pending_approval(app, ready):
    pending = await app.proxy_request(
        "GET",
        ready["provider_base_url"] + "/echo/bench",
        grant_id=ready["grants"]["hitl"],
    )
    return str(pending.approval_id)


def one_call(app, ready, route, approval_id):
    """A coroutine factory for the measured operation."""
    url = ready["provider_base_url"] + "/echo/bench"
    grant = ready["grants"]["api_key_header"]
    if route == "proxy":
        return lambda: app.proxy_request("GET", url, grant_id=grant)
    return lambda: app.get_approval_status(approval_id)


async def worker(call, deadline):
    calls = errors = 0
    while True:
        try:
            await call()
            calls += 1
        except Exception:  # every failure counts; the run goes on
            errors += 1
        if deadline is None or time.monotonic() >= deadline:
            return calls, errors


async def level(call, inflight, secs):
    # One untimed round opens the connections the timed part reuses.
    await asyncio.gather(*(worker(call, None) for _ in range(inflight)))

    cpu_before = time.process_time()
    started = time.monotonic()
    deadline = started + secs
    counts = await asyncio.gather(*(worker(call, deadline) for _ in range(inflight)))
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_before
    calls = sum(c for c, _ in counts)
    errors = sum(e for _, e in counts)
    return calls, errors, elapsed, cpu


async def main():
    args = parse_args()
    with open(args.ready, encoding="utf-8") as f:
        ready = json.load(f)
    # The SDK reads its base URL from the environment only.
    os.environ["ALTER_BASE_URL"] = ready["base_url"]

    import alter_sdk

    app = alter_sdk.App(api_key=ready["app_key"])
    try:
        approval_id = None
        if args.route == "approval":
            approval_id = await pending_approval(app, ready)
        call = one_call(app, ready, args.route, approval_id)
        for inflight in (int(n) for n in args.inflight.split(",")):
            calls, errors, elapsed, cpu = await level(call, inflight, args.secs)
            line = {
                "client": "python",
                "route": args.route,
                "inflight": inflight,
                "calls": calls,
                "errors": errors,
                "secs": elapsed,
                "per_sec": calls / elapsed if elapsed > 0 else 0.0,
                "cpu_secs": cpu,
            }
            print(json.dumps(line), flush=True)
    finally:
        await app.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
