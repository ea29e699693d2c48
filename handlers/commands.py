"""`/loyalty <subcommand> ...`: one root command. What was typed is read once, before the
ack (handlers/subcommands.py: the table); the work runs after it."""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_bolt import Ack, App

from bot.domain.amounts import AmbiguousAmount
from bot.domain.errors import InvalidInput, MalformedRequest
from bot.domain.say import N_
from bot.slack.text import mrkdwn
from handlers.command_help import amount_choice, card_meant, unknown_command
from handlers.context import Env
from handlers.parsing import (
    ARTICLES,
    BEFORE_A_KIND,
    balance_question,
    customers_counted,
    help_asked,
    tokenize,
    verb_first,
    without_please,
    without_pronoun,
)
from handlers.subcommand import BY_NAME, TOP_WORDS, Subcommand, Typed, action_word, canonical
from handlers.subcommands import SUBCOMMANDS

COMMAND = "/loyalty"
_CUSTOMERS = ("customers", "clientes")  # `top customers`: said with the list's name
__all__ = ["COMMAND", "SUBCOMMANDS", "register", "run_subcommand"]


# Words for showing or listing, then what (`ver ofertas`, `muestra el resumen`, `lista de
# clientes`, `show all customers`, `dame el resumen`, `give me the offers`): that
# subcommand, not a customer called "ofertas", nor points given to one called "el resumen".
_SHOW_WORDS = frozenset({"show", "view", "ver", "mostrar", "muestra", "list", "lista", "listar"})
_SHOW_WORDS |= {"da", "give", "enseña", "enséñame", "enseñame"}  # `dame`: `da` by then
_BEFORE_THING = BEFORE_A_KIND | {"all", "todos", "todas", "me"}  # `show me all customers`
_SHOWN = frozenset({"customer", "customers", "offer", "offers", "promos", "summary", "history"})
_SHOWN |= {"approvals"}


def _what_to_show(name: str, args: list[str]) -> tuple[str, list[str]] | None:
    """(the subcommand, its words) when a word for showing names one after it; else None."""
    if name not in _SHOW_WORDS:
        return None
    words = list(args)
    while words and words[0].lower() in _BEFORE_THING:
        words = words[1:]
    if words and (listed := _what_to_show(words[0].lower(), words[1:])):
        return listed  # `dame la lista de clientes`
    row = BY_NAME.get(words[0].lower()) if words else None
    if row is None or row.name not in _SHOWN:
        return None
    return words[0].lower(), words[1:]


# `new customer Rosa Díaz`, `nueva oferta`, `create customer`: said as one says it, the
# form opens at once (nothing changes until it is sent).
_NEW_WORDS = frozenset({"new", "nuevo", "nueva", "create", "crear", "crea"})


def _what_to_make(name: str, args: list[str]) -> tuple[str, list[str]] | None:
    """(`customer` or `offer`, ["new", the rest]) when a word for new names one after it."""
    words = list(args) if name in _NEW_WORDS else []
    while len(words) > 1 and words[0].lower() in BEFORE_A_KIND:  # `create a customer`
        words = words[1:]
    row = BY_NAME.get(words[0].lower()) if words else None
    if row is None or row.name not in ("customer", "offer"):
        return None
    rest = words[1:]
    if rest and rest[0].lower() in _NEW_WORDS:  # `crea un cliente nuevo`
        rest = rest[1:]
    return words[0].lower(), ["new", *rest]


def run_subcommand(env: Env, command: str, args: list[str], *, once: str = "") -> None:
    """A button's command, after its ack: `command` may carry words of its own
    ("offer cancel", ["#5001"]). Read here, once, then run as a typed command is."""
    name, *leading = command.split() or [""]
    row = BY_NAME.get(name)
    if row is None:  # a button whose value names no command of ours
        raise MalformedRequest(N_("choice"))
    _run(env, row, row.read(env, canonical(row, [*leading, *args])), once=once)


def _run(env: Env, row: Subcommand, typed: Typed, *, once: str = "") -> None:
    """The API work goes to the work pool; a subcommand that opens a form runs right here
    instead, because the trigger_id it needs expires about 3 s after the click. One that
    changes something claims `once` (by default the command's trigger_id) before acting."""
    if row.opens_form(typed):
        env.speak_their_language()
        row.run(env, typed)
        return
    changes = row.changes(typed)
    if changes and not once and env.trigger_id:
        once = f"command:{env.trigger_id}"
    env.defer(lambda: row.run(env, typed), once=once if changes else "")


def register(app: App) -> None:
    @app.command(COMMAND)
    def loyalty(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        tokens = without_please(tokenize(body.get("text", "")))
        if len(tokens) > 1 and tokens[0].lower() in ARTICLES and tokens[1].lower() in BY_NAME:
            tokens = tokens[1:]  # `una venta de 100 a ana`, `el resumen`
        name, args = (tokens[0].lower(), tokens[1:]) if tokens else ("help", [])
        if name == "look" and [a.lower() for a in args[:1]] == ["up"]:  # `look up ana`: the card
            name, args = "customer", args[1:]
        name = without_pronoun(name, lambda w: w in BY_NAME or bool(action_word(w)))
        if help_asked(tokens):  # `what can you do?`
            name, args = "help", []
        elif (asked := balance_question(tokens)) is not None:  # their card says it
            name, args = "customer", asked
        elif customers_counted(tokens):  # `¿cuántos clientes tengo?`: the list's total
            name, args = "customers", []
        elif name in TOP_WORDS:  # `top 3`, `mejores clientes`: customers by points
            name, args = "customers", [name, *(a for a in args if a.lower() not in _CUSTOMERS)]
        elif (shown := _what_to_show(name, args)) is not None:  # `ver ofertas`
            name, args = shown
        elif (made := _what_to_make(name, args)) is not None:  # `new customer Rosa Díaz`
            name, args = made
        row = BY_NAME.get(name)
        region = env.settings.loyalty_default_region
        if row is None and card_meant(tokens[0], args, region, env.service.names_someone):
            row, args = BY_NAME["customer"], [tokens[0], *args]  # `1870`, `@ana`, `juan perez`
        if row is None:
            env.note("invalid")
            said = name if action_word(name) else tokens[0]  # `bórralo`: as `borra`
            answer = unknown_command(said, args, region, env.service.names_someone)
            ack(response_type="ephemeral", **answer.kwargs())
            return
        args = canonical(row, args)
        op = None
        if row.name == "points":  # `quitar juan 5`, `fijar juan 30`: the verb signs the amount
            args, op = verb_first(name, args, region)
        try:
            typed = row.read(env, args)
            if op is not None:
                typed = dataclasses.replace(typed, op=op)
        except AmbiguousAmount as exc:  # asked, never guessed: one button per reading
            env.note("invalid")
            ack(response_type="ephemeral", **amount_choice(row, args, exc).kwargs())
            return
        except InvalidInput as exc:
            env.note("invalid")
            ack(response_type="ephemeral", text=mrkdwn(exc.say))
            return
        ack()
        _run(env, row, typed)
