"""The few Prefect REST calls the CLI makes, over plain HTTP.

Importing Prefect costs a CLI process one and a half seconds (it builds its settings and plugin
context); `incident open`, `step done` and `incident show` need only these calls, so they make them
directly against the same API the Prefect client uses. `serve` and the flows use Prefect itself.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from breachops.errors import ServiceUnavailable

__all__ = ["PrefectAPI", "PrefectAPIError", "RunState"]


_ATTEMPTS = 10
_RETRY = frozenset({429, 502, 503, 504})


def _backoff(attempt: int) -> float:
    return min(8.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)


class PrefectAPIError(ServiceUnavailable):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status, where the server answered


@dataclass(frozen=True)
class RunState:
    type: str  # SCHEDULED, PENDING, RUNNING, PAUSED, COMPLETED, FAILED, CANCELLED, CRASHED, ...
    name: str
    details: dict[str, Any]

    @property
    def final(self) -> bool:
        return self.type in ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")

    @property
    def paused(self) -> bool:
        return self.type == "PAUSED"


def _state(state: dict[str, Any] | None) -> RunState | None:
    if not state:
        return None
    return RunState(type=state["type"], name=state["name"], details=state.get("state_details") or {})


class PrefectAPI:
    def __init__(self, api_url: str, timeout: float = 15.0, attempts: int = _ATTEMPTS):
        self.attempts = attempts
        headers = {}
        if key := os.environ.get("PREFECT_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        # Plain HTTP (the local server) needs no TLS context, and building one costs a CLI 0.1 s.
        # Redirects are not followed, so a plain-HTTP client never reaches an HTTPS address.
        plain = api_url.lower().startswith("http://")
        self._client = httpx.Client(
            base_url=api_url.rstrip("/") + "/", timeout=timeout, headers=headers, verify=not plain
        )

    def __enter__(self) -> PrefectAPI:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # A busy server (SQLite under a burst) answers 503 or 429, a restarting one refuses the
        # connection: back off and try again, as Prefect's own client does. Every call here is safe
        # to repeat (flow runs carry an idempotency key).
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                response = self._client.request(method, path, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if last:
                    reason = str(exc) or type(exc).__name__
                    raise PrefectAPIError(f"Prefect API {method} {path}: {reason}") from None
                time.sleep(_backoff(attempt))
                continue
            if response.status_code in _RETRY and not last:
                retry_after = response.headers.get("Retry-After")
                time.sleep(float(retry_after) if retry_after and retry_after.isdigit() else _backoff(attempt))
                continue
            break
        if response.status_code == 404:
            raise LookupError(path)
        if response.status_code >= 400:
            raise PrefectAPIError(
                f"Prefect API {method} {path}: {response.status_code} {response.text[:300]}",
                response.status_code,
            )
        return response

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        return response.json() if response.content else None

    def deployment_id(self, name: str) -> str:
        flow, _, deployment = name.partition("/")
        return str(self._call("GET", f"deployments/name/{flow}/{deployment}")["id"])

    def create_flow_run(
        self, deployment_id: str, parameters: dict[str, Any], tags: list[str], idempotency_key: str
    ) -> str:
        """Create a run; the same idempotency key returns the run created the first time."""
        body = {"parameters": parameters, "tags": tags, "idempotency_key": idempotency_key}
        return str(self._call("POST", f"deployments/{deployment_id}/create_flow_run", json=body)["id"])

    def state(self, flow_run_id: str) -> RunState | None:
        return _state(self._call("GET", f"flow_runs/{flow_run_id}").get("state"))

    def states(self, flow_run_ids: list[str]) -> dict[str, RunState | None]:
        """The states of many runs in one request per 200; a run Prefect does not have is left out."""
        found: dict[str, RunState | None] = {}
        for start in range(0, len(flow_run_ids), 200):
            chunk = flow_run_ids[start : start + 200]
            body = {"flow_runs": {"id": {"any_": chunk}}, "limit": len(chunk)}
            for run in self._call("POST", "flow_runs/filter", json=body) or []:
                found[str(run["id"])] = _state(run.get("state"))
        return found

    def run_input(self, flow_run_id: str, key: str) -> Any:
        """A stored run input (the server keeps it as JSON text)."""
        response = self._request("GET", f"flow_runs/{flow_run_id}/input/{key}")
        return json.loads(response.text)

    def resume(self, flow_run_id: str, run_input: dict[str, Any] | None) -> tuple[str, str]:
        """Resume a paused run: ``(status, reason)``, status ACCEPT, REJECT, ABORT or CONFLICT.

        CONFLICT: another caller resumed it at the same moment (a server on PostgreSQL refuses the
        second run input with 409), so the run goes on all the same.
        """
        try:
            result = self._call("POST", f"flow_runs/{flow_run_id}/resume", json={"run_input": run_input})
        except PrefectAPIError as exc:
            if exc.status != 409:
                raise
            return "CONFLICT", "resumed by another caller at the same time"
        details = result.get("details") or {}
        return str(result.get("status", "")).upper(), str(details.get("reason", ""))

    def reschedule(self, flow_run_id: str, name: str) -> None:
        """Put a run back to Scheduled (a crashed run), for `serve` to claim again."""
        body = {"state": {"type": "SCHEDULED", "name": name}, "force": True}
        self._call("POST", f"flow_runs/{flow_run_id}/set_state", json=body)

    def cancel(self, flow_run_id: str, message: str) -> None:
        body = {"state": {"type": "CANCELLED", "name": "Cancelled", "message": message}, "force": True}
        self._call("POST", f"flow_runs/{flow_run_id}/set_state", json=body)
