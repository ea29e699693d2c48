"""Modals in the console: shown as text, filled in field by field (or from a script)."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from bot.i18n import N_, _
from bot.offline.console_screen import ConsoleParts, StepFailed, _has_buttons, _shown_value
from bot.slack.render import render_blocks
from handlers.home import LOADING_OPTION

# Pickers the console asks for by name, and the view's key for their initial choice.
PICKERS = {
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "timepicker": "initial_time",
    "datepicker": "initial_date",
}


class Forms(ConsoleParts):
    """The console's forms (a part of Console)."""

    def show_view(self, view_id: str) -> None:
        view = self.slack.views[view_id]
        title = (view.get("title") or {}).get("text", "Form")
        others = [b for b in view.get("blocks", []) if b.get("type") != "input"]
        self.say(f"┌ {title} " + "─" * max(2, 30 - len(title)))
        for line in render_blocks(others, self.names).splitlines():
            self.say(f"│ {line}")
        inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
        if inputs:
            refused = {  # the form came back with what was refused, beside those fields
                b["block_id"]: str(b["hint"]["text"]).removeprefix("⚠️ ")
                for b in inputs
                if str((b.get("hint") or {}).get("text", "")).startswith("⚠️")
            }
            if refused:  # only those are asked again; the rest stand as typed
                self.typed = {b["block_id"]: _shown_value(b["element"]) for b in inputs}
            else:
                self.typed = {}
            self.fill(view_id, refused or None)
        elif _has_buttons(others):
            self.say("└ " + _("(click a button in it)"))
        else:
            self.say("└")
            self.view_id = None

    def closes(self, answer: str) -> bool:
        """Whether a field's answer closes the form: `!cancel`, or a `/loyalty` command
        (typed as if the form were not there: it runs next, as in Slack, where a command
        is typed once the window is closed)."""
        if answer.strip().startswith("/loyalty"):
            self.pending = answer.strip()
            return True
        return answer.strip() == "!cancel"

    def fill(self, view_id: str, only: dict[str, str] | None) -> None:
        view = self.slack.views[view_id]
        for block in view["blocks"]:
            if block.get("type") != "input" or (only is not None and block["block_id"] not in only):
                continue
            if only:
                self.say(f"│ ✗ {only[block['block_id']]}")
            value = self.ask(block, self.typed.get(block["block_id"]), view_id)
            if value is None:
                self.say("└ " + _("(form closed, nothing sent)"))
                self.view_id = None
                return
            self.typed[block["block_id"]] = value
        mark = len(self.slack.calls)
        response = self.requests.submit(view_id, self.typed, user=self.user)
        self.say("└ " + _("(submitted)"))
        if not response.content:
            self.view_id = None
        self.after(response, mark)

    def ask(self, block: dict[str, Any], current: Any, view_id: str) -> Any:
        element, label = block["element"], block["label"]["text"]
        if element["type"] == "external_select":
            return self.search(view_id, block["block_id"], label)
        if element["type"] in PICKERS:
            return self.pick(element, label, current, optional=bool(block.get("optional")))
        if element["type"] == "checkboxes":
            return self.tick(element, label, current)
        if element["type"] in ("radio_buttons", "static_select"):
            options = element["options"]
            chosen = current or (element.get("initial_option") or {}).get("value", "")
            menu = ", ".join(f"{i} {o['text']['text']}" for i, o in enumerate(options, 1))
            # The default as the menu shows it: its number and words, not a value inside.
            default = next(
                (
                    f"{i} {o['text']['text']}"
                    for i, o in enumerate(options, 1)
                    if o["value"] == chosen
                ),
                chosen,
            )
            while True:  # a choice that is not one is asked again, never taken as the default
                shown = f" [{default}]" if default else ""
                answer = self.read(f"│ {label} ({menu}){shown}: ")
                if answer is None or self.closes(answer):
                    return None
                answer = answer.strip().lower()
                if not answer:
                    return chosen
                if answer.isdigit() and 1 <= int(answer) <= len(options):
                    return options[int(answer) - 1]["value"]
                for o in options:
                    if answer in (o["value"].lower(), o["text"]["text"].lower()):
                        return o["value"]
                again = (
                    _("That is not one of the choices: type its number, or Enter for [{default}].")
                    if default
                    else _("That is not one of the choices: type its number, or {cancel}.")
                )
                self.say("│ " + again.format(default=default, cancel="!cancel"))
        shown = current if current is not None else element.get("initial_value") or ""
        optional = " " + _("(optional)") if block.get("optional") else ""
        answer = self.read(f"│ {label}{optional} [{shown}]: ")
        if answer is None or self.closes(answer):
            return None
        return answer if answer.strip() else shown

    def search(self, view_id: str, block_id: str, label: str) -> Any:
        """A type-ahead (external select): what is typed goes to the bot as Slack sends
        it while someone types, and one of the options it offers is chosen by number
        (other words search again)."""
        answer = self.read(f"│ {label}: ")
        while True:
            if answer is None or self.closes(answer):
                return None
            if not answer.strip():
                answer = self.read(f"│ {label}: ")
                continue
            offered = self.offered(view_id, block_id, answer.strip())
            if not offered:
                nothing = _("Nothing matches “{typed}”: type more, or other words.")
                self.say("│ " + nothing.format(typed=answer.strip()))
                answer = self.read(f"│ {label}: ")
                continue
            for i, option in enumerate(offered, 1):
                self.say(f"│   {i} {option['text']['text']}")
            if len(offered) == 1:
                return offered[0]["value"]
            answer = self.read("│ " + _("Which one (its number, or other words to search)?") + " ")
            if answer is not None and answer.strip().isdigit():
                if 1 <= int(answer) <= len(offered):
                    return offered[int(answer) - 1]["value"]
                answer = ""  # not one of them: asked again

    def offered(self, view_id: str, block_id: str, typed: str) -> list[dict[str, Any]]:
        """The options the bot offers for `typed`. While it is still loading its customer
        list it offers only a note saying so (value "-"): that is shown once and asked
        again every moment, as a person would type another letter, for up to 20 s."""
        deadline, told = time.monotonic() + 20, False
        while True:
            mark = len(self.slack.calls)
            response = self.requests.options(view_id, block_id, typed, user=self.user)
            self.settle(mark)
            offered = response.json().get("options", []) if response.content else []
            if [o["value"] for o in offered] != [LOADING_OPTION] or time.monotonic() > deadline:
                return [o for o in offered if o["value"] != LOADING_OPTION]
            if not told:
                self.say(f"│   ({offered[0]['text']['text']})")
                told = True
            time.sleep(0.2)  # polling the bot: it says when the list is loaded to no one

    def tick(self, element: dict[str, Any], label: str, current: Any) -> Any:
        """Checkboxes: typed as their numbers or words, comma-separated (empty: none)."""
        options = element["options"]
        menu = ", ".join(f"{i} {o['text']['text']}" for i, o in enumerate(options, 1))
        answer = self.read(f"│ {label} ({menu}) [{current or ''}]: ")
        if answer is None or self.closes(answer):
            return None
        chosen = []
        for word in (w.strip().lower() for w in answer.split(",") if w.strip()):
            if word.isdigit() and 1 <= int(word) <= len(options):  # its number, as shown
                chosen.append(options[int(word) - 1]["value"])
                continue
            for option in options:
                if word in (option["value"].lower(), option["text"]["text"].lower()):
                    chosen.append(option["value"])
        return ",".join(chosen) if answer.strip() else current or ""

    def pick(self, element: dict[str, Any], label: str, current: Any, optional: bool) -> Any:
        """A people, channel, time or date picker: typed as @names, a #name, HH:MM or
        YYYY-MM-DD."""
        kind = element["type"]
        ids = {v: k for k, v in self.names.items()}
        initial = current if current is not None else element.get(PICKERS[kind])
        if kind == "multi_users_select":
            shown = ", ".join("@" + self.names.get(u, u) for u in initial or [])
        elif kind == "conversations_select":
            shown = "#" + self.names.get(initial, initial) if initial else ""
        else:
            shown = initial or ""
        extra = " " + _("(optional)") if optional else ""
        answer = self.read(f"│ {label}{extra} [{shown}]: ")
        while answer is not None and not self.closes(answer) and answer.strip():
            picked = _PICKED.get(kind, lambda typed: typed)(answer.strip())
            if picked is not None:
                break
            self.say("│ " + _(_PICK_AGAIN[kind]))  # Slack's picker offers nothing else
            answer = self.read(f"│ {label}{extra} [{shown}]: ")
        if answer is None or self.closes(answer):
            return None
        answer = answer.strip()
        if not answer:  # kept as it was ("" when empty: None would close the form)
            return initial if initial is not None else ""
        if kind in _PICKED:
            return _PICKED[kind](answer)
        if kind == "multi_users_select":
            return [
                ids.get(w.strip().lstrip("@"), w.strip()) for w in answer.split(",") if w.strip()
            ]
        if kind == "conversations_select":
            return ids.get(answer.lstrip("#"), answer)
        return answer

    def fix_errors(self, errors: dict[str, str]) -> None:
        if self.view_id is None:
            raise StepFailed(f"form errors with no form open: {errors}")
        self.say("│ " + _("Please fix:"))
        self.fill(self.view_id, errors)


# A time typed as one says it (`16:30`, `4pm`, `4:30 p.m.`, `16`): HH:MM, as Slack's time
# picker gives it; None if it is no time.
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)


def _picked_time(typed: str) -> str | None:
    found = _TIME.fullmatch(typed)
    if found is None:
        return None
    hour, minute, half = int(found[1]), int(found[2] or 0), (found[3] or "").lower()
    if half and not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if half == "p" else 0) if half else hour
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


def _picked_date(typed: str) -> str | None:
    try:
        return dt.date.fromisoformat(typed).isoformat()
    except ValueError:
        return None


_PICKED: dict[str, Callable[[str], str | None]] = {
    "timepicker": _picked_time,
    "datepicker": _picked_date,
}
_PICK_AGAIN = {
    "timepicker": N_("That is not a time: type it like 16:30 or 4pm."),
    "datepicker": N_("That is not a date: type it like 2026-12-24."),
}
