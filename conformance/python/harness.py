"""Step runner and assertions for the conformance suite.

A step is an async function registered with ``@step("name")``. Steps run one at a time, in
the order they were registered, each under its own timeout. A step passes when it returns
and fails when it raises: ``Failed`` for an unmet expectation, anything else for a crash.
Steps share a ``Context`` object so that later steps can use what earlier ones created.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

STEP_TIMEOUT_SECONDS = 30.0

StepFn = Callable[["Context"], Awaitable[None]]


class Failed(Exception):
    """An expectation of a step was not met."""


@dataclass
class Context:
    """What steps share: the testkit's ready line and whatever earlier steps stored."""

    ready: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)

    def need(self, name: str) -> Any:
        """A value an earlier step stored; fails the current step when it is missing."""
        if name not in self.values:
            raise Failed(f"needs '{name}', which an earlier step did not produce")
        return self.values[name]


_STEPS: list[tuple[str, StepFn]] = []


def step(name: str) -> Callable[[StepFn], StepFn]:
    """Registers an async step under ``name``; names must be unique."""

    def register(fn: StepFn) -> StepFn:
        if any(existing == name for existing, _ in _STEPS):
            raise ValueError(f"duplicate step name {name!r}")
        _STEPS.append((name, fn))
        return fn

    return register


def registered_steps() -> list[tuple[str, StepFn]]:
    """Every registered step, in registration order."""
    return list(_STEPS)


def expect(condition: bool, what: str) -> None:
    """Fails with ``what`` unless ``condition`` holds."""
    if not condition:
        raise Failed(what)


def expect_eq(actual: Any, expected: Any, what: str) -> None:
    """Fails unless ``actual == expected``, naming both."""
    if actual != expected:
        raise Failed(f"{what}: expected {expected!r}, got {actual!r}")


def expect_type(value: Any, cls: type, what: str) -> None:
    """Fails unless ``value`` is exactly of class ``cls`` (a subclass does not count)."""
    if type(value) is not cls:
        raise Failed(f"{what}: expected {cls.__name__}, got {type(value).__name__}")


async def expect_raises(cls: type[BaseException], awaitable: Awaitable[Any]) -> BaseException:
    """Awaits ``awaitable`` and returns the exception it raised.

    Fails unless the exception's class is exactly ``cls``: a test that expects
    ``GrantExpiredError`` must not pass on its parent ``ReAuthRequiredError``.
    """
    try:
        result = await awaitable
    except Exception as error:  # noqa: BLE001 - the class is what is being checked
        if type(error) is not cls:
            raise Failed(
                f"expected {cls.__name__}, got {type(error).__name__}: {short(error)}"
            ) from error
        return error
    raise Failed(f"expected {cls.__name__}, but the call returned {short(result)}")


def short(value: Any, limit: int = 240) -> str:
    """A one-line, bounded rendering of ``value`` for failure messages."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Outcome:
    """How one step ended."""

    name: str
    error: str | None
    seconds: float


async def run_steps(context: Context, verbose: bool) -> list[Outcome]:
    """Runs every registered step and prints one line per failure (and per pass if verbose)."""
    outcomes = []
    for name, fn in registered_steps():
        started = time.monotonic()
        error = await _run_one(fn, context)
        outcome = Outcome(name, error, time.monotonic() - started)
        outcomes.append(outcome)
        if error is not None:
            print(f"FAIL {name}: {error}", flush=True)
        elif verbose:
            print(f"ok   {name} ({outcome.seconds:.2f}s)", flush=True)
    return outcomes


async def _run_one(fn: StepFn, context: Context) -> str | None:
    try:
        await asyncio.wait_for(fn(context), STEP_TIMEOUT_SECONDS)
    except Failed as failure:
        return short(failure, 400)
    except asyncio.TimeoutError:
        return f"did not finish within {STEP_TIMEOUT_SECONDS:.0f}s"
    except Exception as error:  # noqa: BLE001 - a crash is a failure of this step only
        where = traceback.extract_tb(error.__traceback__)[-1]
        location = f"{os.path.basename(where.filename)}:{where.lineno}"
        return f"unexpected {type(error).__name__} at {location}: {short(error)}"
    return None


def summary(outcomes: list[Outcome]) -> str:
    """The final line, exactly ``N passed, M failed``."""
    failed = sum(1 for outcome in outcomes if outcome.error is not None)
    return f"{len(outcomes) - failed} passed, {failed} failed"
