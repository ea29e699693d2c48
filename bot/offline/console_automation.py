"""Slack's automation in the console. `step add_loyalty_points customer=1870 points=10`
runs a Workflow Builder step as a workflow would (Slack's function_executed event, signed,
with the person at the console as the acting person) and prints how it ended;
`shortcut add_points` and `shortcut find <a message's text>` choose a shortcut."""

from __future__ import annotations

import shlex

from bot.i18n import _
from bot.offline.console_demo import HERE
from bot.offline.console_screen import ConsoleParts, StepFailed
from bot.slack.ids import ShortcutId
from handlers.steps import STEPS

EXAMPLE = "step add_loyalty_points customer=juan.perez@example.com points=10 reason=visit"


SHORTCUTS = {"add_points": ShortcutId.ADD_POINTS, "find": ShortcutId.FIND_IN_MESSAGE}


class Automation(ConsoleParts):
    """The console's `step` and `shortcut` (a part of Console)."""

    def run_shortcut(self, args: str) -> None:
        name, _sep, text = args.partition(" ")
        if name not in SHORTCUTS or (name == "find") != bool(text.strip()):
            raise StepFailed(
                _("which shortcut? {add}, or {find} <a message's text>").format(
                    add="shortcut add_points", find="shortcut find"
                )
            )
        mark = len(self.slack.calls)
        if name == "add_points":
            response = self.requests.shortcut(SHORTCUTS[name], user=self.user)
        else:
            message = {"text": self.slackify(text.strip()), "user": self.user, "ts": "1.1"}
            response = self.requests.message_shortcut(
                SHORTCUTS[name], message, user=self.user, channel=HERE
            )
        self.after(response, mark)

    def run_step(self, args: str) -> None:
        try:
            words = shlex.split(args)
        except ValueError as exc:  # an unclosed quote
            raise StepFailed(f"step: {exc}") from None
        by_id = {s.callback_id: s for s in STEPS}
        if not words or words[0] not in by_id:
            raise StepFailed(
                _("which step? {steps}; e.g. {example}").format(
                    steps=", ".join(by_id), example=EXAMPLE
                )
            )
        step = by_id[words[0]]
        names = [p.name for p in step.inputs if p.name != "acting_user"]
        inputs = {"acting_user": self.user}
        for word in words[1:]:
            name, sep, value = word.partition("=")
            if not sep or name not in names:
                raise StepFailed(
                    _("“{word}”: {step} takes {names} (name=value)").format(
                        word=word, step=step.callback_id, names=", ".join(names)
                    )
                )
            inputs[name] = value
        mark = len(self.slack.calls)
        response, execution = self.requests.step(step.callback_id, inputs, title=step.title)
        self.after(response, mark)
        status, result = self.slack.step_end(execution)
        if status == "completed":
            outputs = ", ".join(f"{k}={v}" for k, v in result.items())
            self.say(
                _("Step “{title}” completed: {outputs}").format(title=step.title, outputs=outputs)
            )
        else:
            self.say(_("Step “{title}” failed: {why}").format(title=step.title, why=result))
