"""The help, from the table of subcommands: the short list, one subcommand's details, the
usage lines the refusals quote, and the answer to a subcommand we do not have."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.index.search import exact_reference
from bot.domain.amounts import AMOUNT_LIKE, AmbiguousAmount, is_points_unit
from bot.domain.phones import to_e164
from bot.domain.say import Code, Name, Say, Strong
from bot.i18n import _, language, number
from bot.slack import blocks
from bot.slack.text import mrkdwn
from handlers.parsing import BEFORE_A_KIND, NAME_WORD, TO_WHOM, join_phone
from handlers.subcommand import BY_NAME, ROWS, Subcommand, Usage, action_said, action_word


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

NamesSomeone = Callable[[str], bool]  # the list as loaded names someone by these words

# Words people look for a command under that needs none: what it is, instead.
_ALERT_WORDS = frozenset({"alert", "alerts", "alerta", "alertas"})
# What a person new to the bot says to it first, and last.
_GREETINGS = frozenset({"hi", "hello", "hey", "hola", "buenas", "buenos", "saludos"})
_THANKS = frozenset({"thanks", "thank", "thx", "gracias"})


def unknown(name: str) -> str:
    """One line for a subcommand we do not have, with the nearest one we do (or, for a
    word that needs no command, what it is instead)."""
    return unknown_command(name, []).text


def _near_enough(typed: str) -> float:
    return 0.75 if len(typed) <= 4 else 0.6


@dataclass(frozen=True)
class _Reading:
    """What a line that starts with no subcommand of ours was read as (`_read`)."""

    guess: tuple[str, list[str]] | None = None  # a subcommand meant, and the rest
    understood: bool = False  # the guess is from a verb we know (`borrar rosa`)
    slip: bool = True  # the guess is a slip of its word (`pints`)
    named: bool = False  # every word may be part of a name, and a button can carry them
    left_out: str | None = None  # the subcommand left out before a customer (`1870 10`)
    sold: list[str] | None = None  # the words of a sale said without its verb
    someone: bool = False  # the first word is a slip of a subcommand that names someone


# Words a question starts with: never a slip of a subcommand (`how` is not `show`,
# `cuándo` not `undo`), nor the start of a customer's name.
_QUESTION_WORDS = frozenset(
    {"how", "what", "when", "where", "why", "which", "cómo", "como", "qué", "que", "cuándo"}
    | {"cuando", "dónde", "donde", "cuál", "cual", "cuáles", "cuales", "por", "porque"}
)


def _asks(name: str) -> bool:
    """Whether a line that starts with `name` is a question (`cuándo …`, `¿qué …`)."""
    return name.lstrip("¿") in _QUESTION_WORDS


def _read(
    typed: str, args: list[str], region: str, names_someone: NamesSomeone | None = None
) -> _Reading:
    """`names_someone`: the list as loaded, when the reading may wait for nothing else (a
    first word that is a slip of a subcommand and someone's name is the name: `ana 5`)."""
    name = typed.lower()
    if _asks(name):
        return _Reading()
    guess, slip = _action_first(name, args), True  # `borrar rosa`: `customer delete rosa`
    understood = guess is not None  # a verb it knows: not "I don't know borrar"
    someone = False
    if guess is None:
        # A short word is near many (`nada`, `añade`): it must be nearer to count.
        near = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=_near_enough(name))
        if near:
            slip = difflib.SequenceMatcher(None, name, near[0]).ratio() >= TYPO
            someone = slip and names_someone is not None and names_someone(typed)
            if not someone:  # `ana garcia 5`: Ana, not a slip of `añade` that drops her
                guess = word(BY_NAME[near[0]]), args
    words = [typed, *args]
    named = all(NAME_WORD.fullmatch(w) for w in words) and (
        len(" ".join(words)) <= RERUN_CHARACTERS
    )
    if guess is not None:
        return _Reading(guess, understood, slip, named)
    sold = _sale_said_after_the_customer(words)
    left_out = "sale" if sold else _subcommand_left_out(typed, args, region)
    return _Reading(named=named, left_out=left_out, sold=sold, someone=someone)


def _chat(typed: str) -> bool:
    """A greeting, thanks, or a word for alerts: answered as such, never a customer."""
    return typed.lower().strip("!¡.,?¿") in _ALERT_WORDS | _GREETINGS | _THANKS


def card_meant(typed: str, args: list[str], region: str, names_someone: NamesSomeone) -> bool:
    """Whether a line that starts with no subcommand of ours is a customer alone, whose
    card was meant: an email, phone number, id of four digits or more or @mention with
    nothing after it, or words that the list as loaded names someone by (`juan perez`;
    one word only when it is a little like a subcommand, as `juana`). Where
    `unknown_command` would offer the card with a button, it is shown at once."""
    if _chat(typed):
        return False
    reading, words = _read(typed, args, region, names_someone), [typed, *args]
    if reading.guess is not None:
        return not reading.slip and reading.named and names_someone(" ".join(words))
    if reading.left_out is not None:
        return reading.left_out == "customer"
    alone = len(words) >= 2 or reading.someone  # one word when it was taken for a slip
    return reading.named and alone and names_someone(" ".join(words))


def unknown_command(
    typed: str, args: list[str], region: str = "", names_someone: NamesSomeone | None = None
) -> blocks.Message:
    """`unknown`, and for the nearest subcommand a button that runs it with the rest of
    what was typed (`historia juan` -> `historial juan`), so nothing is typed again; for
    a line that starts with a customer, the subcommand it left out (`1870 10`; `region`
    reads a national phone number)."""
    name = typed.lower()
    help_command = Code("/loyalty " + word(BY_NAME["help"]))
    bare = name.strip("!¡.,?¿")  # `thanks!`, `¡hola!`
    if bare in _ALERT_WORDS:
        return blocks.notice(mrkdwn(_alerts(help_command)))
    if bare in _GREETINGS:
        return blocks.notice(
            mrkdwn(Say("👋 Hello! {help} lists what I can do.", help=help_command))
        )
    if bare in _THANKS:
        return blocks.notice(mrkdwn(Say("You're welcome! 🙂")))
    if _asks(name):  # asked, not a command: not guessed at
        return blocks.notice(
            mrkdwn(
                Say("I can't answer that question. {help} lists what I can do.", help=help_command)
            )
        )
    reading, words = _read(typed, args, region, names_someone), [typed, *args]
    if reading.guess is not None and not reading.slip and reading.named:
        # `juana`: a name, more likely than `añade`
        return _maybe_a_customer(name, words, help_command, near=reading.guess[0])
    if reading.guess is not None:
        meant, rest = reading.guess
        question = (
            Say("Did you mean {near}? {help} lists the rest.", near=Code(meant), help=help_command)
            if reading.understood
            else Say(
                "I don't know {typed}. Did you mean {near}? {help} lists the rest.",
                typed=Code(name),
                near=Code(meant),
                help=help_command,
            )
        )
        command = " ".join([meant, *rest])
        # More than a button carries, or another word and not a slip: the line alone.
        if len(command) > RERUN_CHARACTERS or not reading.slip:
            return blocks.notice(mrkdwn(question))
        shown = f"/loyalty {meant}" + (" …" if rest else "")
        return blocks.command_choice(question, [(shown, command)])
    if reading.left_out is not None:  # what was typed is not echoed: a mention, hostile text
        if reading.sold:  # `juan perez compró 250`: the sale, its verb left out
            typed, *args = reading.sold
        meant = word(BY_NAME[reading.left_out])
        question = Say(
            "Did you mean {command} with what you typed after it? A command starts with "
            "what to do: {help} lists them.",
            command=Code(f"/loyalty {meant}"),
            help=help_command,
        )
        command = " ".join([meant, typed, *args])
        if len(command) > RERUN_CHARACTERS:
            return blocks.notice(mrkdwn(question))
        return blocks.command_choice(question, [(f"/loyalty {meant} …", command)])
    if reading.named and (len(words) >= 2 or reading.someone):  # one word alone: not guessed
        return _maybe_a_customer(name, words, help_command)
    return blocks.notice(
        mrkdwn(
            Say(
                "I don't know {typed}. {help} lists what I can do.",
                typed=Code(name),
                help=help_command,
            )
        )
    )


def _maybe_a_customer(
    typed: str, words: list[str], help_command: Code, near: str = ""
) -> blocks.Message:
    """Words that may be a customer's name: their card offered with a button (and the
    subcommand they are a little like, if any, named)."""
    card = word(BY_NAME["customer"])
    values = {
        "typed": Code(typed),
        "words": Name(" ".join(words)),
        "command": Code(f"/loyalty {card} …"),
        "help": help_command,
    }
    if near:
        question = Say(
            "I don't know {typed}. If “{words}” is a customer, {command} shows their card; "
            "or did you mean {near}? {help} lists what I can do.",
            near=Code(near),
            **values,
        )
    else:
        question = Say(
            "I don't know {typed}. If “{words}” is a customer, {command} shows their card; "
            "{help} lists what I can do.",
            **values,
        )
    return blocks.command_choice(question, [(f"/loyalty {card} …", " ".join([card, *words]))])


def _action_first(name: str, args: list[str]) -> tuple[str, list[str]] | None:
    """An action typed where the subcommand goes: (the subcommand with it, as the reader
    says it, and the rest). `borrar rosa` is `customer delete rosa`, `publicar 5002`
    `offer publish 5002`; a subcommand named after it is that one (`nueva oferta`, `delete
    offer 5002`: the rest leaves it out). None for any other word."""
    action = action_word(name)
    if not action:
        return None
    words = list(args)
    while len(words) > 1 and words[0].lower() in BEFORE_A_KIND:  # `edita la oferta pan`
        words = words[1:]
    named = BY_NAME.get(words[0].lower()) if words else None
    if named is not None and named.name not in ("customer", "offer", "customers", "offers"):
        # `registrar venta 250 a ana`: a sale recorded, not a customer named "venta"
        return (word(named), words[1:]) if action == "new" else None
    if named is not None and named.name in ("customer", "offer"):
        owner, rest = named.name, words[1:]
    else:
        owner, rest = ("offer" if action in ("publish", "cancel") else "customer"), args
    return f"{word(BY_NAME[owner])} {action_said(owner, action)}", rest


# A purchase said after the customer, before its amount: `juan perez compró 250`.
_BOUGHT = frozenset({"compró", "compro", "gastó", "gasto", "pagó", "bought", "spent", "paid"})


def _sale_said_after_the_customer(words: list[str]) -> list[str] | None:
    """The words without the verb when they say a customer bought an amount's worth
    (`ana pagó 120`, `juan spent $80`); else None."""
    for i in range(1, len(words) - 1):
        if words[i].lower() in _BOUGHT and AMOUNT_LIKE.match(words[i + 1].lstrip("$")):
            return [*words[:i], *words[i + 1 :]]
    return None


def _subcommand_left_out(name: str, args: list[str], region: str) -> str | None:
    """The subcommand a line that starts with a customer meant: an email, phone number,
    id of four digits or more, or @mention alone is the customer's card; a customer with
    an amount after it (`1870 10`) is points. None for other words."""
    whole = " ".join([name, *args])
    kind = exact_reference(whole)
    if (
        kind == "email"
        or (name.startswith("<@") and not args)
        or (kind == "id" and len(whole.lstrip("#")) >= 4)
        or to_e164(whole, region) is not None
    ):
        return "customer"
    if AMOUNT_LIKE.match(name) and args and (is_points_unit(args[0]) or args[0].lower() in TO_WHOM):
        return "points"  # `10 puntos a juan`, `+5 to ana`: the amount said first
    _customer, *rest = join_phone([name, *args], region)
    return "points" if any(AMOUNT_LIKE.match(w) for w in rest) else None


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
