"""Requests into the bot exactly as Slack sends them, signed with the signing secret:
slash commands, button clicks (in messages and in modals) and modal submissions.

Used by the tests and by the offline console, with the Slack stand-in serving the
Web API and the response URLs.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.offline.slack_standin import SlackStandIn

FORM = "application/x-www-form-urlencoded"


# Pickers: the key Slack puts the choice under, and the view's key for its initial choice.
SELECTED = {
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "timepicker": ("selected_time", "initial_time"),
    "datepicker": ("selected_date", "initial_date"),
}


def fill(view: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` as Slack builds it: every input, prefilled values unless typed over."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        if element["type"] == "external_select":  # typed: the chosen option's value
            chosen = typed.get(block_id)
            option = {"text": {"type": "plain_text", "text": chosen}, "value": chosen}
            values[block_id] = {
                element["action_id"]: {
                    "type": "external_select",
                    "selected_option": option if chosen else None,
                }
            }
        elif element["type"] in ("radio_buttons", "static_select"):
            wanted = typed.get(block_id)
            option = next(
                (o for o in element["options"] if o["value"] == wanted),
                element.get("initial_option"),
            )
            values[block_id] = {
                element["action_id"]: {"type": element["type"], "selected_option": option}
            }
        elif element["type"] == "checkboxes":  # typed: the chosen values, comma-separated
            wanted = typed.get(block_id)
            chosen = (
                [o for o in element["options"] if o["value"] in str(wanted).split(",")]
                if wanted is not None
                else element.get("initial_options") or []
            )
            values[block_id] = {
                element["action_id"]: {"type": "checkboxes", "selected_options": chosen}
            }
        elif element["type"] in SELECTED:
            key, initial = SELECTED[element["type"]]
            chosen = typed.get(block_id, element.get(initial))
            if element["type"] == "multi_users_select" and isinstance(chosen, str):
                chosen = [user for user in chosen.split(",") if user]
            values[block_id] = {element["action_id"]: {"type": element["type"], key: chosen}}
        else:
            value = typed.get(block_id, element.get("initial_value"))
            kind = element["type"]  # plain_text_input, number_input (its value a string)
            values[block_id] = {
                element["action_id"]: {"type": kind, "value": None if value is None else str(value)}
            }
    return values


class SlackRequests:
    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        standin: SlackStandIn,
        *,
        team_id: str = "T0LOYALTY",
        http: httpx.Client | None = None,
    ) -> None:
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.standin = standin
        self.team_id = team_id
        self.http = http or httpx.Client(timeout=30)

    def signed_post(
        self, body: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret or self.secret).generate_signature(
            timestamp=ts, body=body
        )
        return self.http.post(
            self.url,
            content=body.encode(),
            headers={
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature or "",
            },
        )

    def _user(self, user: str) -> dict[str, str]:
        return {"id": user, "username": user.lower(), "team_id": self.team_id}

    def command(
        self, text: str, *, user: str, channel: str, channel_name: str = "shop", **signing: Any
    ) -> httpx.Response:
        return self.signed_post(
            self.command_body(text, user=user, channel=channel, channel_name=channel_name),
            **signing,
        )

    def command_body(
        self, text: str, *, user: str, channel: str, channel_name: str = "shop"
    ) -> str:
        """The body Slack posts for a slash command (post it with `signed_post`, or twice
        to replay it)."""
        form = {
            "token": "legacy",
            "team_id": self.team_id,
            "team_domain": "shop",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/loyalty",
            "text": text,
            "api_app_id": "A0LOYALTY",
            "is_enterprise_install": "false",
            "response_url": self.standin.response_url(),
            "trigger_id": f"trigger.{time.monotonic_ns()}",
        }
        return urlencode(form)

    def step(
        self,
        callback_id: str,
        inputs: dict[str, Any],
        *,
        title: str = "",
        execution: tuple[str, str] | None = None,
    ) -> tuple[httpx.Response, str]:
        """A Workflow Builder step of ours being run: the function_executed event Slack
        sends, with the step's own short-lived token. `execution` (an id and token from
        `SlackStandIn.start_step`) sends one again, as Slack may. Returns the HTTP answer
        and the function_execution_id (`SlackStandIn.step_end` tells how it ended)."""
        execution_id, token = execution or self.standin.start_step(self.team_id)
        event = {
            "type": "function_executed",
            "function": {
                "id": f"Fn{callback_id.upper()[:10]}",
                "callback_id": callback_id,
                "title": title or callback_id.replace("_", " ").capitalize(),
                "type": "app",
                "app_id": "A0LOYALTY",
            },
            "inputs": inputs,
            "function_execution_id": execution_id,
            "workflow_execution_id": f"Wx{execution_id[2:]}",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": token,
        }
        return self.event(event), execution_id

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """An Events API callback (JSON body), e.g. {"type": "app_home_opened", ...}."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": self.team_id,
                "api_app_id": "A0LOYALTY",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
            }
        )
        ts = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body)
        return self.http.post(
            self.url,
            content=body.encode(),
            headers={
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature or "",
            },
        )

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        return self.signed_post(self.interaction_body(payload))

    @staticmethod
    def interaction_body(payload: dict[str, Any]) -> str:
        return urlencode({"payload": json.dumps(payload)})

    def shortcut(self, callback_id: str, *, user: str) -> httpx.Response:
        """A global shortcut, chosen from Slack's shortcut menu (no channel, no
        response_url: only a trigger to open a window)."""
        return self.interaction(
            {
                "type": "shortcut",
                "token": "legacy",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": self.team_id, "domain": "shop"},
                "user": self._user(user),
                "callback_id": callback_id,
                "trigger_id": f"trigger.{time.monotonic_ns()}",
            }
        )

    def message_shortcut(
        self, callback_id: str, message: dict[str, Any], *, user: str, channel: str
    ) -> httpx.Response:
        """A message shortcut, chosen from a message's menu: the message comes with it."""
        return self.interaction(
            {
                "type": "message_action",
                "token": "legacy",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": self.team_id, "domain": "shop"},
                "user": self._user(user),
                "channel": {"id": channel, "name": "shop"},
                "callback_id": callback_id,
                "trigger_id": f"trigger.{time.monotonic_ns()}",
                "response_url": self.standin.response_url(),
                "message_ts": message.get("ts", "1.1"),
                "message": {"type": "message", **message},
            }
        )

    def click(
        self,
        button: dict[str, Any],
        *,
        user: str,
        channel: str,
        message: dict[str, Any] | None = None,
        block_id: str = "b",
    ) -> httpx.Response:
        """Press a button of a message: `message` (with its ts) for a channel message,
        None for an ephemeral one."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "shop"},
            "user": self._user(user),
            "api_app_id": "A0LOYALTY",
            "token": "legacy",
            "container": {
                "type": "message",
                "is_ephemeral": message is None,
                "channel_id": channel,
                "message_ts": (message or {}).get("ts", "1.1"),
            },
            "trigger_id": f"trigger.{time.monotonic_ns()}",
            "channel": {"id": channel, "name": "shop"},
            "response_url": self.standin.response_url(),
            "actions": [_action(button, block_id)],
        }
        if message is not None:
            payload["message"] = message
        return self.interaction(payload)

    def click_in_view(self, view_id: str, button: dict[str, Any], *, user: str) -> httpx.Response:
        return self._click_in(view_id, self.standin.views[view_id], button, user=user)

    def click_in_home(self, button: dict[str, Any], *, user: str) -> httpx.Response:
        """Press a button on `user`'s App Home tab (as published)."""
        view_id = "VHOME" + user
        return self._click_in(view_id, self.standin.home_tabs[user], button, user=user)

    def _click_in(
        self, view_id: str, view: dict[str, Any], button: dict[str, Any], *, user: str
    ) -> httpx.Response:
        return self.interaction(
            {
                "type": "block_actions",
                "team": {"id": self.team_id, "domain": "shop"},
                "user": self._user(user),
                "api_app_id": "A0LOYALTY",
                "token": "legacy",
                "trigger_id": f"trigger.{time.monotonic_ns()}",
                "container": {"type": "view", "view_id": view_id},
                "view": {**view, "id": view_id, "state": {"values": {}}},
                "actions": [_action(button, "b")],
            }
        )

    def options(self, view_id: str, block_id: str, typed: str, *, user: str) -> httpx.Response:
        """What Slack sends as someone types into an external select of a modal."""
        view = self.standin.views[view_id]
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        return self.interaction(
            {
                "type": "block_suggestion",
                "team": {"id": self.team_id, "domain": "shop"},
                "user": self._user(user),
                "api_app_id": "A0LOYALTY",
                "token": "legacy",
                "container": {"type": "view", "view_id": view_id},
                "action_id": block["element"]["action_id"],
                "block_id": block_id,
                "value": typed,
                "view": {**view, "state": {"values": {}}},
            }
        )

    def submit(self, view_id: str, values: dict[str, Any], *, user: str) -> httpx.Response:
        """Submit the modal as it stands in the stand-in, typing `values` over it."""
        return self.interaction(self.submission(view_id, values, user=user))

    def submission(self, view_id: str, values: dict[str, Any], *, user: str) -> dict[str, Any]:
        """The view_submission payload (post it with `interaction`, or twice to replay)."""
        view = self.standin.views[view_id]
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "shop"},
            "user": self._user(user),
            "api_app_id": "A0LOYALTY",
            "token": "legacy",
            "trigger_id": f"trigger.{time.monotonic_ns()}",
            "view": {
                **view,
                "team_id": self.team_id,
                "type": "modal",
                "state": {"values": fill(view, values)},
                "root_view_id": view_id,
                "app_id": "A0LOYALTY",
                "bot_id": "BBOT",
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }


def _action(button: dict[str, Any], block_id: str) -> dict[str, Any]:
    return {
        "action_id": button["action_id"],
        "block_id": block_id,
        "text": button["text"],
        "value": button.get("value", ""),
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
