"""A local stand-in for Slack's Web API, speaking its documented protocol over HTTP.

Point `WebClient(base_url=URL + "/api/")` at it. It records every call (and every post
to a `response_url` it hands out) so tests can assert what Slack was asked to show, and
keeps the messages so the offline console can render them.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.views import View

from bot.offline.standin_files import FileUploads, Upload
from bot.offline.standin_steps import WorkflowSteps


@dataclass
class SlackCall:
    method: str  # "chat.postMessage", ... or "response_url"
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    team: str = ""  # the workspace whose token made the call


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    ephemeral_to: str | None = None


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str
    email: str = ""
    deleted: bool = False
    locale: str = "en-US"  # users.info gives it with include_locale
    tz: str = ""  # their time zone in Slack, as users.info gives it ("": none set)
    team_id: str = ""  # "" : the stand-in's first workspace
    is_admin: bool = False
    is_owner: bool = False


class SlackStandIn(WorkflowSteps, FileUploads):
    def __init__(
        self,
        *,
        token: str = "xoxb-standin",
        team_id: str = "T0LOYALTY",
        users: Iterable[SlackUser] = (),
        usergroups: dict[str, list[str]] | None = None,
        channels: dict[str, str] | None = None,
        bot_not_in: Iterable[str] = (),
    ) -> None:
        self.token = token
        self.team_id = team_id
        # Installed in several workspaces (OAuth): each bot token belongs to one.
        self.tokens: dict[str, str] = {token: team_id}
        self.team_names: dict[str, str] = {team_id: "Demo shop"}
        self.client_id, self.client_secret = "111.222", "standin-client-secret"
        self.rotating = False  # oauth.v2.access hands out expiring tokens with refresh tokens
        self.expires_in = 43200  # seconds a rotating token lasts
        self.installer: tuple[str, str] = (team_id, "")  # who clicks Allow on the next install
        self.redirect_uri = ""  # the app's Redirect URL (its settings page), if not in the link
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> team, user, scopes
        self._refresh: dict[str, str] = {}  # refresh token -> team
        self.users = {u.id: u for u in users}
        self.usergroups = usergroups or {}
        self.channels = channels or {}
        self.bot_not_in = set(bot_not_in)
        self.base_url = ""  # set by whoever serves it (for permalinks and response URLs)
        self.calls: list[SlackCall] = []
        self.messages: list[StoredMessage] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_tabs: dict[str, Any] = {}
        self.failing: dict[str, str] = {}  # method -> error to answer with
        self.rate_limited: dict[str, int] = {}  # method -> how many HTTP 429s to answer first
        # method -> held until set (a slow Slack): a test releases it, or it never answers
        self.holds: dict[str, threading.Event] = {}
        self.delays: dict[str, float] = {}  # method -> seconds before it answers (benchmarks)
        # Workflow Builder steps started (function_execution_id -> the workspace) and how
        # each ended: ("completed", outputs) or ("failed", error), once.
        self.steps: dict[str, str] = {}
        self.step_ends: dict[str, tuple[str, Any]] = {}
        self.uploads: dict[str, Upload] = {}  # files.getUploadURLExternal's, by file id
        self._upload_dir: tempfile.TemporaryDirectory[str] | None = None
        self._ids = itertools.count(1)
        self._cond = threading.Condition()

    # -- for tests and the console -----------------------------------------------

    def response_url(self) -> str:
        return f"{self.base_url}/response/{next(self._ids)}"

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] = lambda c: True,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[SlackCall]:
        """Wait until `count` calls of `method` match; return them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and predicate(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise TimeoutError(f"no {count}x {method} within {timeout}s; calls: {seen}")
                self._cond.wait(left)

    def add_workspace(self, team_id: str, name: str) -> None:
        """Another workspace where people can install the app (through OAuth)."""
        self.team_names[team_id] = name

    def posts_in(self, team_id: str, method: str = "chat.postMessage") -> list[SlackCall]:
        with self._cond:
            return [c for c in self.calls if c.method == method and c.team == team_id]

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/upload/"):  # a file's bytes: streamed to disk, not read here
            return self._receive_upload(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        args = _decode_body(raw, environ.get("CONTENT_TYPE", ""))
        if path.startswith("/response/"):
            self._record("response_url", {**args, "_url": f"{self.base_url}{path}"})
            return _reply(start_response, {"ok": True}, raw_text="ok")
        if path == "/oauth/v2/authorize":
            return self._authorize(environ, start_response)
        method = path.rsplit("/", 1)[-1]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if method == "oauth.v2.access":
            if (hold := self.holds.get(method)) is not None:
                hold.wait(60)
            answer = (
                {"ok": False, "error": self.failing[method]}
                if method in self.failing
                else self._oauth_v2_access(args, auth)
            )
            self._record(method, {k: v for k, v in args.items() if k != "client_secret"})
            return _reply(start_response, answer)
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", "")
        team = self.tokens.get(token)
        if team is None:
            return _reply(start_response, {"ok": False, "error": "invalid_auth"})
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            self._record(method + " (429)", args)
            start_response(
                "429 Too Many Requests",
                [("Retry-After", "1"), ("Content-Type", "application/json")],
            )
            return [json.dumps({"ok": False, "error": "ratelimited"}).encode()]
        if (hold := self.holds.get(method)) is not None:
            hold.wait(60)
        if delay := self.delays.get(method):
            threading.Event().wait(delay)  # a slow Slack answers late
        args["_team"] = team  # the methods answer for the token's workspace
        if method in self.failing:
            answer = {"ok": False, "error": self.failing[method]}
        elif handler := getattr(self, "_" + method.replace(".", "_"), None):
            answer = handler(args)
        else:
            answer = {"ok": False, "error": "unknown_method"}
        args.pop("_team", None)
        # Recorded once handled: whoever waits for the call finds what it did (a view).
        self._record(method, args, team)
        return _reply(start_response, answer)

    def _record(self, method: str, args: dict[str, Any], team: str = "") -> None:
        with self._cond:
            self.calls.append(SlackCall(method, args, team=team or self.team_id))
            self._cond.notify_all()

    def _ts(self) -> str:
        return f"{time.time():.6f}".replace(".", "")[:10] + f".{next(self._ids):06d}"

    # -- the Web API methods the bot uses -------------------------------------------

    # -- OAuth (Add to Slack) -----------------------------------------------------------

    def _authorize(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """Slack's authorize page, with `installer` clicking Allow: back to the app's
        redirect URL with a one-time code and the state it was given."""
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        redirect = query.get("redirect_uri") or self.redirect_uri  # else the app's own
        if query.get("client_id") != self.client_id or not redirect:
            return _reply(start_response, {"ok": False, "error": "invalid_client_id"})
        code = secrets.token_hex(8)
        team, user = self.installer
        self._codes[code] = (team, user, query.get("scope", ""))
        target = f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        start_response("302 Found", [("Location", target), ("Content-Length", "0")])
        return [b""]

    def _oauth_v2_access(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return {"ok": False, "error": "invalid_client"}
        if args.get("grant_type") == "refresh_token":
            team = self._refresh.pop(str(args.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True, "token_type": "bot", **self._new_token(team)}
        found = self._codes.pop(str(args.get("code")), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team, user, scopes = found
        return {
            "ok": True,
            "app_id": "ALOYALTY",
            "token_type": "bot",
            "scope": scopes,
            "bot_user_id": "UBOT",
            "team": {"id": team, "name": self.team_names.get(team, team)},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": user},
            **self._new_token(team),
        }

    def _new_token(self, team: str) -> dict[str, Any]:
        prefix = "xoxe.xoxb-" if self.rotating else "xoxb-"
        token = f"{prefix}{team}-{secrets.token_hex(6)}"
        self.tokens[token] = team
        if not self.rotating:
            return {"access_token": token}
        refresh = f"xoxe-1-{secrets.token_hex(8)}"
        self._refresh[refresh] = team
        return {"access_token": token, "refresh_token": refresh, "expires_in": self.expires_in}

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        for token, team in list(self.tokens.items()):
            if team == team_id:
                del self.tokens[token]

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = args.get("_team", self.team_id)
        return {
            "ok": True,
            "url": "https://standin.slack.local/",
            "team": self.team_names.get(team, team),
            "user": "loyalty",
            "team_id": team,
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                **({"locale": user.locale} if args.get("include_locale") else {}),
                **({"tz": user.tz} if user.tz else {}),
                "id": user.id,
                "name": user.name,
                "real_name": user.real_name,
                "deleted": user.deleted,
                "team_id": user.team_id or self.team_id,
                "is_admin": user.is_admin or user.is_owner,
                "is_owner": user.is_owner,
                "profile": {
                    "email": user.email,
                    "real_name": user.real_name,
                    "display_name": user.name,
                },
            },
        }

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args.get("usergroup")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group)}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel in self.bot_not_in:
            return {"ok": False, "error": "not_in_channel"}
        if channel.startswith("U"):  # posting to a user id lands in the DM
            channel = "D" + channel[1:]
        message = StoredMessage(
            channel,
            self._ts(),
            args.get("text", ""),
            _blocks(args.get("blocks")),
            args.get("thread_ts"),
        )
        self.messages.append(message)
        args["_ts"], args["_channel"] = message.ts, channel  # for the console to find it
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"text": message.text, "blocks": message.blocks, "ts": message.ts},
        }

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel in self.bot_not_in:
            return {"ok": False, "error": "not_in_channel"}
        message = StoredMessage(
            channel,
            self._ts(),
            args.get("text", ""),
            _blocks(args.get("blocks")),
            ephemeral_to=str(args.get("user")),
        )
        self.messages.append(message)
        return {"ok": True, "message_ts": message.ts}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == args.get("channel") and message.ts == args.get("ts"):
                message.text = args.get("text", message.text)
                message.blocks = _blocks(args.get("blocks"))
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), str(args.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://demo.slack.local/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if self.channels and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        name = self.channels.get(channel, channel.lower())
        return {
            "ok": True,
            "channel": {"id": channel, "name": name, "is_member": channel not in self.bot_not_in},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._store_view(f"V{next(self._ids):08d}", args.get("view"))

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(args["view"]) if isinstance(args.get("view"), str) else args.get("view")
        try:
            View(**dict(view or {})).validate_json()
        except (SlackObjectFormationError, TypeError, KeyError) as exc:
            return {"ok": False, "error": "invalid_arguments", "detail": str(exc)}
        self.home_tabs[str(args.get("user_id"))] = view
        return {"ok": True, "view": view}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        return self._store_view(view_id, args.get("view"))

    def _store_view(self, view_id: str, view: Any) -> dict[str, Any]:
        data = json.loads(view) if isinstance(view, str) else dict(view or {})
        try:  # Slack refuses a view that is not valid Block Kit
            View(**data).validate_json()
        except (SlackObjectFormationError, TypeError, KeyError) as exc:
            return {"ok": False, "error": "invalid_arguments", "detail": str(exc)}
        data.update({"id": view_id, "hash": f"h{next(self._ids)}"})
        self.views[view_id] = data
        return {"ok": True, "view": data}


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return json.loads(value)
    return list(value or [])


def _decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {"_": data}
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _reply(
    start_response: StartResponse, body: dict[str, Any], raw_text: str | None = None
) -> list[bytes]:
    data = (raw_text if raw_text is not None else json.dumps(body)).encode()
    kind = "text/plain" if raw_text is not None else "application/json"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]
