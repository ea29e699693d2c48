"""What Slack was asked to show, printed: replies, posts, DMs and updates, with the
buttons a person can click next."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.i18n import _, ngettext
from bot.offline.console_demo import HERE, HOME
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackCall, SlackStandIn
from bot.slack.render import render_blocks

# Control characters (an escape sequence in a customer's name, say) shown as \xNN.
_TERMINAL_SAFE = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F] if c != 0x0A}


def _shown_value(element: dict[str, Any]) -> Any:
    """What an input holds as the form shows it (typed before, or chosen)."""
    if "initial_option" in element:
        return (element.get("initial_option") or {}).get("value")
    for key in ("initial_value", "initial_time", "initial_channel", "initial_user"):
        if key in element:
            return element[key]
    if "initial_users" in element:
        return element["initial_users"]
    return None


class StepFailed(Exception):
    """A step did not do what it should (a script then exits non-zero)."""


@dataclass
class Clickable:
    """A message with buttons: `message` (with its ts) for a channel post, None if ephemeral."""

    blocks: list[dict[str, Any]]
    channel: str
    message: dict[str, Any] | None = None


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _has_buttons(blocks: list[dict[str, Any]]) -> bool:
    return any(
        b.get("type") == "actions" or (b.get("accessory") or {}).get("type") == "button"
        for b in blocks
    )


def _buttons(blocks: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """The buttons labelled `label` (lowercase); if none, those whose label starts with
    it as words (`eliminar` is "Eliminar cliente"): a message's own button before an
    older message's that matches exactly."""
    buttons = []
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if (block.get("accessory") or {}).get("type") == "button":
            elements = [block["accessory"]]
        buttons += [e for e in elements if e.get("type") == "button"]
    exact = [e for e in buttons if e["text"]["text"].lower() == label]
    return exact or [e for e in buttons if e["text"]["text"].lower().startswith(label + " ")]


class ConsoleParts:
    """What the console's parts (Screen, Forms, Console) share: set up by Console.start."""

    out: TextIO
    script: Iterator[str] | None
    user: str
    names: dict[str, str]
    slack: SlackStandIn
    requests: SlackRequests
    view_id: str | None
    typed: dict[str, Any]
    last_output: list[str]
    clickables: list[Clickable]
    sent: int
    workspaces: bool
    refusals: int
    done: Any  # bot.offline.requests_done's counter
    pending: str | None  # the line to run next (a command typed into a form)
    answers_sent: Callable[[float], bool]  # LoyaltyService.answers_sent, or every workspace's

    def say(self, text: str = "") -> None:
        text = text.translate(_TERMINAL_SAFE)  # outside text cannot drive the terminal
        self.last_output.append(text)
        print(text, file=self.out, flush=True)

    def read(self, prompt: str) -> str | None:
        if self.pending is not None:  # a command typed into a form, which it closed
            command, self.pending = self.pending, None
            print(f"{prompt}{command}", file=self.out, flush=True)
            return command
        if self.script is not None:
            line = next(self.script, None)
            if line is not None:
                print(f"{prompt}{line}", file=self.out, flush=True)
            return line
        try:
            return input(prompt)
        except EOFError:
            return None

    def after(self, response: Any, mark: int) -> None:
        raise NotImplementedError  # Screen

    def settle(self, mark: int, limit: float = 20.0) -> list[SlackCall]:
        raise NotImplementedError  # Screen

    def show_view(self, view_id: str) -> None:
        raise NotImplementedError  # Forms

    def fill(self, view_id: str, only: dict[str, str] | None) -> None:
        raise NotImplementedError  # Forms

    def fix_errors(self, errors: dict[str, str]) -> None:
        raise NotImplementedError  # Forms

    def is_installed(self) -> bool:
        raise NotImplementedError  # Console

    def slackify(self, text: str) -> str:
        raise NotImplementedError  # Console


class Screen(ConsoleParts):
    """The console's rendering (a part of Console)."""

    def after(self, response: Any, mark: int) -> None:
        if response.status_code != 200:
            raise StepFailed(f"the bot answered HTTP {response.status_code}")
        body = response.json() if response.content else None
        if self.workspaces and not self.is_installed():
            # Bolt refuses it before any listener (so no request line): its answer only.
            self.slack.wait_for("response_url", count=1 + self.refusals, timeout=10)
            self.refusals += 1
            self.render_calls(self.slack.calls[mark:])
            return
        calls = self.settle(mark)
        if body and body.get("response_action") == "errors":
            self.render_calls(calls)
            self.fix_errors(body["errors"])
            return
        if body and body.get("response_action") == "update" and self.view_id:
            later = [
                c
                for c in calls
                if c.method == "views.update" and c.args.get("view_id") == self.view_id
            ]
            if not later:  # else the work after the ack has filled the window since
                self.slack.views[self.view_id] = {**body["view"], "id": self.view_id}
        elif body and (body.get("text") or body.get("blocks")):
            self.show(_("only you"), body.get("blocks") or [], body.get("text", ""))
            self.remember(body.get("blocks") or [], HERE)
        elif not calls and not body and self.view_id is None:
            raise StepFailed(_("no answer from the bot"))
        self.render_calls(calls, updated=bool(body and body.get("response_action") == "update"))

    def settle(self, mark: int, limit: float = 20.0) -> list[SlackCall]:
        """Wait until the bot has finished the request (its log line is written when all
        its work has ended) and sent any answer it promised for later (a customer it went
        on looking for); return the Slack calls it made."""
        self.sent += 1
        if not (self.done.wait_for(self.sent, limit) and self.answers_sent(limit)):
            raise StepFailed(
                _("the bot was still working after {seconds} s").format(seconds=round(limit))
            )
        return self.slack.calls[mark:]

    def render_calls(self, calls: list[SlackCall], updated: bool = False) -> None:
        modal = updated
        for call in calls:
            args, method = call.args, call.method
            if method == "response_url":
                if args.get("delete_original"):
                    self.say(_("(the message was removed)"))
                    continue
                where = (
                    _("only you, replacing the message above")
                    if args.get("replace_original")
                    else _("only you")
                )
                self.show(where, _blocks(args), args.get("text", ""))
                self.remember(_blocks(args), HERE)
            elif method == "chat.postEphemeral":
                self.show(
                    _("only you, in #{channel}").format(
                        channel=self.names.get(args["channel"], args["channel"])
                    ),
                    _blocks(args),
                    args.get("text", ""),
                )
                self.remember(_blocks(args), args["channel"])
            elif method == "chat.postMessage":
                channel = args.get("_channel", args.get("channel", ""))
                where = (
                    _("DM from Loyalty to @{name}").format(
                        name=self.names.get("U" + channel[1:], "?")
                    )
                    if channel.startswith("D")
                    else f"#{self.names.get(channel, channel)}"
                )
                if args.get("thread_ts"):
                    where += _(", in a thread")
                self.show(where, _blocks(args), args.get("text", ""))
                self.remember(
                    _blocks(args),
                    channel,
                    {"ts": args.get("_ts"), "text": args.get("text", ""), "blocks": _blocks(args)},
                )
            elif method == "chat.update":
                channel = args["channel"]
                self.show(
                    _("#{channel}, message updated").format(
                        channel=self.names.get(channel, channel)
                    ),
                    _blocks(args),
                    args.get("text", ""),
                )
                self.remember(
                    _blocks(args),
                    channel,
                    {"ts": args["ts"], "text": args.get("text", ""), "blocks": _blocks(args)},
                )
            elif method == "views.publish":
                view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
                self.show(_("Home tab"), view.get("blocks", []), "")
                self.remember(view.get("blocks", []), HOME)
            elif method == "files.completeUploadExternal":
                self.show_files(args)
            elif method in ("views.open", "views.update"):
                self.view_id = args.get("view_id") or max(self.slack.views)
                modal = True
        bug = ("something went wrong on my side", "algo salió mal de mi lado")
        if any(b in line for b in bug for line in self.last_output):
            raise StepFailed(_("the bot hit an unexpected error"))
        if modal and self.view_id:
            self.show_view(self.view_id)

    def show_files(self, args: dict[str, Any]) -> None:
        """A file shared by the bot (an export): where, its name, and the copy the console
        keeps of it (in the system's temporary folder, under loyalty-console/)."""
        channel = str(args.get("channel_id", ""))
        files = args.get("files")
        for item in json.loads(files) if isinstance(files, str) else files or []:
            upload = self.slack.uploads.get(str(item.get("id")))
            if upload is None or upload.path is None:
                continue
            saved = Path(tempfile.gettempdir()) / "loyalty-console" / upload.name
            saved.parent.mkdir(exist_ok=True)
            shutil.copyfile(upload.path, saved)  # the stand-in's copy goes when it does
            where = (
                _("DM from Loyalty to @{name}").format(name=self.names.get("U" + channel[1:], "?"))
                if channel.startswith("D")
                else f"#{self.names.get(channel, channel)}"
            )
            if upload.name.endswith(".csv"):
                lines = upload.text().count("\n")
                size = ngettext("{count} line", "{count} lines", lines).format(count=lines)
            else:
                size = f"{len(upload.data()) // 1024 + 1} KB"
            self.say(f"[{where}]\n  📎 {upload.name} · {size} · {saved}")
            if upload.alt_text:
                self.say(f"  ({upload.alt_text})")

    def show(self, where: str, blocks: list[dict[str, Any]], text: str) -> None:
        rendered = render_blocks(blocks, self.names, fallback=text)
        self.say(f"[{where}]\n" + "\n".join("  " + line for line in rendered.splitlines()))

    def remember(
        self, blocks: list[dict[str, Any]], channel: str, message: dict[str, Any] | None = None
    ) -> None:
        """A message whose buttons `click` may press. An update replaces the message it
        updates (same channel and ts), as Slack shows it: its old buttons are gone."""
        ts = (message or {}).get("ts")
        if ts:
            self.clickables[:] = [
                c
                for c in self.clickables
                if c.channel != channel or (c.message or {}).get("ts") != ts
            ]
        if _has_buttons(blocks):
            self.clickables.append(Clickable(blocks, channel, message))
