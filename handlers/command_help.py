"""The help, from the table of subcommands: the short list, one subcommand's details, the
usage lines the refusals quote, and the answer to a subcommand we do not have."""

from __future__ import annotations

import difflib

from bot.domain.amounts import AmbiguousAmount
from bot.domain.say import Code, Say, Strong
from bot.i18n import _, language, number
from bot.slack import blocks
from bot.slack.text import mrkdwn
from handlers.subcommand import BY_NAME, ROWS, Subcommand, Usage


def word(row: Subcommand) -> str:
    """The subcommand as the reader says it."""
    return row.es if language() == "es" else row.name


def said(words: str) -> Code:
    """A command of ours (a msgid: `customer new`), as the reader types it."""
    return Code("/loyalty " + _(words))


def usage_of(name: str, which: int = 0) -> dict[str, Code]:
    """A subcommand's form of use (and its first example), from the table and in the
    reader's words: for the messages that say how to use it."""
    usage = BY_NAME[name].usages[which]
    found = {"usage": said(usage.usage)}
    if usage.examples:
        found["example"] = said(usage.examples[0])
    return found


def help_message() -> blocks.Message:
    """The short help: one line per subcommand, fits on one screen."""
    return blocks.help_message([(word(row), _(row.brief)) for row in ROWS])


def help_detail(row: Subcommand) -> blocks.Message:
    """`help <subcommand>`, in the reader's words."""
    usages = [Usage(_(u.usage), _(u.summary), tuple(map(_, u.examples))) for u in row.usages]
    takes_customer = any("<customer>" in u.usage for u in row.usages)
    return blocks.help_detail(word(row), usages, names_customers=takes_customer)


def _alerts(help_command: Code) -> Say:
    return Say(
        "Alerts about unusual points need no command: I send them to the managers on my own "
        "(in the audit channel, or by direct message when there is none), each change with "
        "an {undo} button. {help} lists the commands.",
        undo=Strong("Undo"),
        help=help_command,
    )


# How alike a word must be to a subcommand to be a slip of it (difflib's ratio: `pints`
# and `points` 0.91, `historia` and `historial` 0.94; `saldo` and `sale` 0.67 are two
# words): only a slip gets a button that runs the subcommand.
TYPO = 0.75

# The longest command a button runs again (its value holds it, escaped, within Slack's
# 2,000 characters: bot.slack.ids.RerunText).
RERUN_CHARACTERS = 900

# Words people look for a command under that needs none: what it is, instead.
_ALERT_WORDS = frozenset({"alert", "alerts", "alerta", "alertas"})


def unknown(name: str) -> str:
    """One line for a subcommand we do not have, with the nearest one we do (or, for a
    word that needs no command, what it is instead)."""
    return unknown_command(name, []).text


def unknown_command(name: str, args: list[str]) -> blocks.Message:
    """`unknown`, and for the nearest subcommand a button that runs it with the rest of
    what was typed (`historia juan` -> `historial juan`), so nothing is typed again."""
    help_command = Code("/loyalty " + word(BY_NAME["help"]))
    if name in _ALERT_WORDS:
        return blocks.notice(mrkdwn(_alerts(help_command)))
    near = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=0.6)
    if near:
        meant = word(BY_NAME[near[0]])
        question = Say(
            "I don't know {typed}. Did you mean {near}? {help} lists the rest.",
            typed=Code(name),
            near=Code(meant),
            help=help_command,
        )
        command = " ".join([meant, *args])
        if len(command) > RERUN_CHARACTERS:  # more than a button carries: the line alone
            return blocks.notice(mrkdwn(question))
        if difflib.SequenceMatcher(None, name, near[0]).ratio() < TYPO:
            return blocks.notice(mrkdwn(question))  # another word, not a slip: no button
        shown = f"/loyalty {meant}" + (" …" if args else "")
        return blocks.command_choice(question, [(shown, command)])
    return blocks.notice(
        mrkdwn(
            Say(
                "I don't know {typed}. {help} lists what I can do.",
                typed=Code(name),
                help=help_command,
            )
        )
    )


def amount_choice(row: Subcommand, args: list[str], asked: AmbiguousAmount) -> blocks.Message:
    """The command again with each reading of its amount in place of what was typed."""
    typed = " ".join(args)
    choices = [
        (
            f"{asked.sign}{number(n)}",
            f"{row.name} " + typed.replace(asked.text, f"{asked.sign}{n}", 1),
        )
        for n in asked.readings
    ]
    return blocks.command_choice(asked.say, choices)
