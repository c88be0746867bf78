"""The testkit's unsigned control API (``{base_url}/_testkit/``), over plain ``urllib``.

These calls stand in for what a human does in a browser or the Alter console: approve or
deny an approval, finish a connect or sign-in flow. They also create grants in a given
state and read what the fake recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

CONTROL_TIMEOUT_SECONDS = 10.0


class ControlError(Exception):
    """The control API refused a request or could not be reached."""


class Control:
    """Calls the control routes of one running testkit."""

    def __init__(self, base_url: str) -> None:
        self._root = base_url.rstrip("/") + "/_testkit/"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Sends one control request; returns the status and the decoded JSON body (or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._root + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_SECONDS) as answer:
                return answer.status, _decode(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read())
        except OSError as error:
            raise ControlError(f"{method} {path}: {error}") from error

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """Like ``call`` but any status of 300 or more is an error."""
        status, answer = self.call(method, path, body)
        if status >= 300:
            raise ControlError(f"{method} {path} answered {status}: {answer}")
        return answer

    def add_grant(self, **spec: Any) -> str:
        """Creates a grant from a GrantSpec (see alter-testkit's spec.rs); returns its id."""
        return self.ok("POST", "grants", spec)["grant_id"]

    def approve(self, approval_id: str) -> dict[str, Any]:
        return self.ok("POST", f"approvals/{approval_id}/approve")

    def deny(self, approval_id: str, reason: str) -> dict[str, Any]:
        return self.ok("POST", f"approvals/{approval_id}/deny", {"reason": reason})

    def expire(self, approval_id: str) -> dict[str, Any]:
        return self.ok("POST", f"approvals/{approval_id}/expire")

    def approval_history(self, approval_id: str) -> list[str]:
        return self.ok("GET", f"approvals/{approval_id}")["history"]

    def pending_sessions(self) -> dict[str, list[str]]:
        return self.ok("GET", "sessions")

    def requests(self, route: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests, optionally only those of ``route`` (``METHOD /pattern``)."""
        query = "" if route is None else "?" + urllib.parse.urlencode({"route": route})
        return self.ok("GET", "requests" + query)["requests"]

    def audit_rows(self) -> list[dict[str, Any]]:
        return self.ok("GET", "audit")["rows"]

    def scope_reports(self) -> list[dict[str, Any]]:
        return self.ok("GET", "scope-reports")["reports"]

    def arm_fault(self, route: str, action: dict[str, Any], times: int = 1) -> None:
        self.ok("POST", "faults", {"route": route, "action": action, "times": times})

    def clear_faults(self) -> None:
        self.ok("DELETE", "faults")

    def issue_user_token(self, sub: str) -> str:
        return self.ok("POST", "users", {"sub": sub})["user_token"]


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class SessionCompleter:
    """Completes the next pending connect or sign-in session from a background thread.

    The SDK's ``connect()`` and ``authenticate()`` open their session and then poll it, so
    the session exists only once the call is running. The thread notes the sessions of
    ``kind`` (``connect`` or ``auth``) already pending when it starts, waits for a new one,
    then completes the newest through the token alias ``latest``, as a user finishing the
    flow in a browser would.
    """

    def __init__(self, control: Control, kind: str, completion: dict[str, Any]) -> None:
        self._control = control
        self._kind = kind
        self._completion = completion
        self._done = threading.Event()
        self.answer: Any = None
        self.error: str | None = None
        self._before: set[str] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SessionCompleter:
        # Noted here, before the flow under test can open its session.
        self._before = set(self._control.pending_sessions()[self._kind])
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=CONTROL_TIMEOUT_SECONDS)

    def _run(self) -> None:
        deadline = time.monotonic() + 20.0
        while not self._done.is_set() and time.monotonic() < deadline:
            try:
                if set(self._control.pending_sessions()[self._kind]) - self._before:
                    path = f"{self._kind}/latest/complete"
                    self.answer = self._control.ok("POST", path, self._completion)
                    return
            except ControlError as error:
                self.error = str(error)
                return
            self._done.wait(0.05)
        self.error = f"no pending {self._kind} session appeared"


def later(delay: float, action: Any) -> threading.Timer:
    """Runs ``action()`` on a background thread after ``delay`` seconds."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer


async def in_thread(fn: Any, *args: Any) -> Any:
    """Runs a blocking control call without blocking the event loop."""
    return await asyncio.to_thread(fn, *args)
