"""The Slack stand-in's Workflow Builder steps: a step being run (its function_executed
event's id and token), and functions.completeSuccess / functions.completeError, which end
it once (a part of SlackStandIn)."""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from typing import Any


class WorkflowSteps:
    tokens: dict[str, str]
    team_id: str
    _ids: itertools.count[int]
    _cond: threading.Condition
    # Steps started (function_execution_id -> the workspace) and how each ended:
    # ("completed", outputs) or ("failed", error), once.
    steps: dict[str, str]
    step_ends: dict[str, tuple[str, Any]]

    def start_step(self, team_id: str = "") -> tuple[str, str]:
        """A Workflow Builder step starting in `team_id`: its function_execution_id and the
        short-lived bot token its function_executed event carries (`bot_access_token`)."""
        execution = f"Fx{next(self._ids):010d}"
        token = f"xwfp-{secrets.token_hex(12)}"
        with self._cond:
            self.tokens[token] = team_id or self.team_id
            self.steps[execution] = team_id or self.team_id
        return execution, token

    def step_end(self, execution: str, timeout: float = 10.0) -> tuple[str, Any]:
        """How the step ended: ("completed", outputs) or ("failed", error); waits for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while execution not in self.step_ends:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"step {execution} did not end within {timeout}s")
                self._cond.wait(left)
            return self.step_ends[execution]

    def _functions_completeSuccess(self, args: dict[str, Any]) -> dict[str, Any]:
        outputs = args.get("outputs")
        if isinstance(outputs, str):
            outputs = json.loads(outputs)
        return self._end_step(args, ("completed", outputs or {}))

    def _functions_completeError(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("error"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._end_step(args, ("failed", str(args["error"])))

    def _end_step(self, args: dict[str, Any], end: tuple[str, Any]) -> dict[str, Any]:
        execution = str(args.get("function_execution_id", ""))
        with self._cond:
            if self.steps.get(execution) != args.get("_team"):
                return {"ok": False, "error": "function_execution_not_found"}
            self.step_ends.setdefault(execution, end)  # the first end is the one Slack keeps
        return {"ok": True}
