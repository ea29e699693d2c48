"""Slash-command text as Slack sends it (with `should_escape: true`) into tokens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot.domain.amounts import AMOUNT_LIKE, Op, is_points_unit
from bot.domain.phones import international, numbers_in, to_e164

_LINK = re.compile(r"<(mailto:|tel:|https?://)([^|>]*)(?:\|([^>]*))?>")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')
MENTION_TOKEN = re.compile(r"^<@([UW][A-Z0-9]+)>$")


def tokenize(text: str) -> list[str]:
    """Split on spaces; "double quotes" keep a name together (and stay on the token, so the
    lookup knows the whole name was meant); links Slack added to emails and phones are
    undone; control characters (never meant in a command) are dropped."""
    text = "".join(ch for ch in text or "" if ch.isprintable() or ch.isspace())
    text = _LINK.sub(lambda m: m.group(3) or m.group(2), text)
    text = _MENTION.sub(lambda m: f" <@{m.group(1)}> ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    tokens = []
    for match in _TOKEN.finditer(text):
        straight, curly, bare = match.groups()
        if bare is not None:
            tokens.append(bare)
        else:
            tokens.append(f'"{straight if straight is not None else curly}"')
    return tokens


# Said before a request, as people are polite: `por favor suma 5 a ana`, `please add 5`.
_PLEASE = (("por", "favor"), ("porfa",), ("porfavor",), ("please",), ("pls",), ("plis",))


def without_please(tokens: list[str]) -> list[str]:
    """The tokens without a leading "please" (`por favor`, `porfa`, `please`, with its
    comma); the request after it, or nothing left (then it is the short help)."""
    for please in _PLEASE:
        said = [t.lower().strip(",.!¡") for t in tokens[: len(please)]]
        if tuple(said) == please:
            return tokens[len(please) :]
    return tokens


_THOUSANDS = re.compile(r"^\d{3}$")
_GROUP_START = re.compile(r"^[+\-=−]?\d{1,3}( \d{3})*$")
_DIGIT_GROUP = re.compile(r"^\(?\d+\)?-?\d*$")


def join_phone(tokens: list[str], region: str = "") -> list[str]:
    """`+52 999 411 6533 10` -> [`+52 999 411 6533`, `10`]: an international number typed
    with spaces takes the digit groups after it until it is a plausible length. With a
    region, a national number typed in groups (`999 411 6533`, `(999) 411-6533`) is joined
    when the groups read as a valid number there (so `1870 10` stays an id and an amount)."""
    if not tokens:
        return tokens
    if not tokens[0].startswith("+"):
        return _join_national(tokens, region) if region else tokens
    phone, i = tokens[0], 1
    while i < len(tokens) - 1 and _DIGIT_GROUP.match(tokens[i]) and _digits(phone) < 10:
        phone, i = f"{phone} {tokens[i]}", i + 1
    # One group more if only with it is the number one (`+52 1 55 1234 5678`: the last
    # word, which is else kept apart as an amount).
    if (
        i < len(tokens)
        and _DIGIT_GROUP.match(tokens[i])
        and to_e164(phone) is None
        and to_e164(f"{phone} {tokens[i]}") is not None
    ):
        phone, i = f"{phone} {tokens[i]}", i + 1
    return [phone, *tokens[i:]]


def _join_national(tokens: list[str], region: str) -> list[str]:
    groups = 0
    while groups < min(len(tokens), 5) and _DIGIT_GROUP.match(tokens[groups]):
        groups += 1
    for end in range(groups, 1, -1):  # the longest run of groups that is a number
        candidate = " ".join(tokens[:end])
        if to_e164(candidate, region) is not None:
            return [candidate, *tokens[end:]]
    return tokens


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


# Typed before a customer as one says it (`points to ana 5`, `puntos para 1870 2`).
PREPOSITIONS = frozenset({"a", "al", "de", "del", "para", "to", "for", "of"})
# A word that names a customer by itself: an id, a mention, an email, a phone's start.
_NAMES_ALONE = re.compile(r"^(#?\d+|<@\w+(\|[^>]*)?>|@\S+|\S+@\S+|\+\d[\d\s]*)$")


def split_reference(tokens: list[str], region: str = "") -> tuple[str, str | None, str]:
    """(customer reference, amount or None, reason) from `<customer> <amount> [reason...]`.

    The amount is the first amount-like token after the first one, so an unquoted
    name of several words works: `points Juan Pérez 10 birthday`. A preposition before
    an id, mention, email or phone is left out (`para 1870 2`: 1870, 2 points); before a
    name, the lookup decides (handlers.resolve: `del rio` may be a surname).
    """
    if not tokens:
        return "", None, ""
    if len(tokens) >= 3 and tokens[0].casefold() in PREPOSITIONS and _NAMES_ALONE.match(tokens[1]):
        tokens = tokens[1:]
    tokens = join_phone(tokens, region)
    found = _amount_at(tokens)
    if found is not None:
        i, end = found
        return " ".join(tokens[:i]), " ".join(tokens[i:end]), " ".join(tokens[end:])
    if len(tokens) >= 2:
        return tokens[0], tokens[1], " ".join(tokens[2:])
    return tokens[0], None, ""


def _amount_at(tokens: list[str]) -> tuple[int, int] | None:
    """Where the amount is among `<customer> <amount> [reason...]` (phone numbers joined):
    the first amount-like token after the first one, and any thousands typed apart after
    it (`1 000`)."""
    for i in range(1, len(tokens)):
        if AMOUNT_LIKE.match(tokens[i]):
            end = i + 1
            while (
                end < len(tokens)
                and _THOUSANDS.match(tokens[end])
                and _GROUP_START.match(" ".join(tokens[i:end]))
            ):
                end += 1
            return i, end
    return None


def plain_words(reference: str) -> bool:
    """Whether a customer reference is words (a name), not an id, email, phone number,
    quoted name or @mention: where such words end is a guess from the list."""
    first = reference.split(" ", 1)[0]
    return (
        not first[:1].isdigit()
        and not first.startswith(("#", '"', "<", "+"))
        and ("@" not in first)
    )


# A sign typed apart from its number (`= 100`, `- 5`), or said with a verb (`fijar 100`,
# `quitar 5`, `set 100`), in either language whatever the reader's. Verbs only: `más`,
# `menos` and the like are surnames too (Artur Mas).
_SIGNS = {"+": "+", "-": "-", "−": "-", "=": "="}
DEDUCT_VERBS = (
    *("subtract", "remove", "deduct", "take", "restar", "quitar", "descontar"),
    *("resta", "quita", "descuenta"),  # as said to someone (tú), as Spanish speakers type them
)
SET_VERBS = ("set", "fijar", "poner", "fija", "pon")
# Other words for adding points, as a till says them: `regálale 10 a ana`, `abona 10 a
# ana`, `award ana 10` (not `cargar`: `cárgale 250 a juan` may be a sale charged).
MORE_ADD_VERBS = (
    *("regalar", "regala", "abonar", "abona", "acreditar", "acredita"),
    *("award", "credit", "grant"),
)
_SIGN_VERBS = {
    **dict.fromkeys(("add", "sumar", "agregar", "añadir", "anadir"), "+"),
    **dict.fromkeys(("suma", "agrega", "añade", "anade", *MORE_ADD_VERBS), "+"),
    **dict.fromkeys(DEDUCT_VERBS, "-"),
    **dict.fromkeys(SET_VERBS, "="),
}
_SIGN_OPS = {"+": Op.ADD, "-": Op.DEDUCT, "=": Op.SET}
_UNSIGNED = re.compile(r"^\d[\d.,]*$")


def verb_first(verb: str, tokens: list[str], region: str = "") -> tuple[list[str], Op | None]:
    """`/loyalty quitar juan 5` is `points juan -5`: a sign verb typed where the subcommand
    goes signs the amount after the customer (`tokens`: what followed the verb). With no
    amount, the tokens as they are and what the verb says to do (`quitar juan`: the form
    opens on deducting); an amount with a sign of its own keeps it."""
    sign = _SIGN_VERBS.get(verb.casefold())
    tokens = join_phone(amount_first(unit_apart(tokens, is_points_unit)), region)
    if sign is None:
        return tokens, None
    found = _amount_at(tokens)
    if found is None:
        return tokens, _SIGN_OPS[sign]
    i = found[0]
    if sign == "=" and i > 1 and tokens[i - 1].casefold() in _TO_A_BALANCE:  # `set ana to 50`
        tokens, i = [*tokens[: i - 1], *tokens[i:]], i - 1
    if _UNSIGNED.match(tokens[i]):
        tokens = [*tokens[:i], sign + tokens[i], *tokens[i + 1 :]]
    return tokens, None


# Between a customer and the balance they are set to: `set ana to 50`, `fija a ana en 30`.
_TO_A_BALANCE = frozenset({"to", "at", "en", "a"})


# A customer asked about as people ask (their card answers): `¿cuántos puntos tiene ana?`,
# `how many points does juan perez have?`, `¿quién es 999 411 6533?`, `who is 1870`,
# `dame los puntos de ana`, `¿cuál es el saldo de luis?`, `what's juan's balance?`; its
# customer's words (a possessive left for the customer's reader to drop).
_CUSTOMER_QUESTION = re.compile(
    r"^¿?\s*(?:cu[aá]ntos\s+puntos\s+(?:tiene|lleva)|how\s+many\s+points\s+(?:does|has)"
    r"|what(?:['’]s|\s+is|\s+are)(?=\s+.+['’]s?\s+(?:points?|balance)\s*\??$)"
    r"|qui[eé]n\s+es|who\s+is|who['’]s"
    r"|(?:dame|dime|mu[eé]strame|ens[eé][ñn]ame|ver|busca|revisa(?:r)?|checa(?:r)?|consulta(?:r)?)"
    r"\s+(?:los\s+)?(?:puntos|(?:el\s+)?saldo)\s+del?"
    r"|cu[aá]l\s+es\s+el\s+saldo\s+del?|what\s+is\s+the\s+balance\s+of)"
    r"\s+(?P<who>.+?)(?:\s+have)?\s*\??$",
    re.IGNORECASE,
)
# The customers counted, as people ask: `¿cuántos clientes tengo?`, `how many customers
# are there?` (only words that ask nothing more: `cuántos clientes nuevos` is not this).
_CUSTOMERS_COUNT = re.compile(
    r"^¿?\s*(?:cu[aá]ntos\s+clientes|how\s+many\s+customers)(?P<rest>(?:\s+[^\s?]+)*)\s*\??$",
    re.IGNORECASE,
)
_COUNT_WORDS = frozenset(
    {"tengo", "tenemos", "hay", "tiene", "la", "el", "tienda", "programa", "en", "total"}
    | {"do", "i", "we", "have", "are", "there", "in", "the", "shop", "store", "program"}
)


# What a person new to the bot asks for instead of `help`.
_HELP_ASKED = re.compile(
    r"^¿?\s*(?:what\s+can\s+you\s+do|what\s+do\s+you\s+do|qu[eé]\s+(?:puedes|sabes)\s+hacer"
    r"|qu[eé]\s+haces|c[oó]mo\s+(?:funciona(?:s)?|te\s+uso|se\s+usa)"
    r"|how\s+(?:does\s+(?:this|it)\s+work|do\s+i\s+use\s+(?:this|it|you))"
    r"|commands|comandos|men[uú]|opciones|options|\?)\s*\??$",
    re.IGNORECASE,
)


def help_asked(tokens: list[str]) -> bool:
    """Whether `tokens` ask what the bot does (`what can you do?`, `¿qué puedes hacer?`)."""
    return bool(_HELP_ASKED.match(" ".join(tokens)))


def balance_question(tokens: list[str]) -> list[str] | None:
    """The customer's words when `tokens` ask about someone: how many points they have,
    who they are (their card answers); else None."""
    asked = _CUSTOMER_QUESTION.match(" ".join(tokens))
    return asked.group("who").split(" ") if asked else None


def customers_counted(tokens: list[str]) -> bool:
    """Whether `tokens` ask how many customers there are (the list's total answers)."""
    asked = _CUSTOMERS_COUNT.match(" ".join(tokens))
    return asked is not None and set(asked.group("rest").lower().split()) <= _COUNT_WORDS


# A pronoun joined to a verb said to someone, as Mexican Spanish says it (`súmale`,
# `quítale`, `ponle`, `búscame`, `bórralo`); the verb then carries a written stress.
_JOINED_PRONOUNS = ("les", "los", "las", "nos", "le", "lo", "la", "me")


def without_pronoun(word: str, known: Callable[[str], bool]) -> str:
    """`súmale` -> `suma`, `dale` -> `da`, `ponle` -> `pon`: a verb with a pronoun joined,
    as the verb alone when `known` knows it (a subcommand, or an action on one); else
    the word as it is."""
    if known(word):
        return word
    for ending in _JOINED_PRONOUNS:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            stem = unicodedata.normalize("NFD", word[: -len(ending)]).replace("\u0301", "")
            verb = unicodedata.normalize("NFC", stem)  # `añádele`: the ñ stays
            if known(verb):
                return verb
    return word


# Between an amount said first and whom it is for: `add 10 to juan`, `quita 5 a luis`,
# `remove 5 from ana`.
TO_WHOM = frozenset({"to", "for", "a", "al", "para"})
# Before a thing named, as one says it: `canjea el café a ana`, `exporta el historial`.
ARTICLES = frozenset({"el", "la", "los", "las", "un", "una", "the", "a", "an"})
# Before the name of a kind of thing (`edita la oferta`, `borra al cliente`, `exporta mis
# clientes`, `lista de clientes`, `list of offers`): passed over to find the kind.
BEFORE_A_KIND = ARTICLES | {"al", "del", "de", "of", "my", "mi", "mis"}
_TO_OR_FROM_WHOM = TO_WHOM | {"from", "de", "del"}


def amount_first(tokens: list[str], is_unit: Callable[[str], bool] = is_points_unit) -> list[str]:
    """`10 to juan perez` -> `juan perez 10`, and `5 points from ana` -> `ana 5 points`:
    the amount said before whom it is for, as people say it (`is_unit`: the word that
    may follow it, points or a currency, kept with it for the readers to drop). Only with
    a word for "to" or "from" between them (`1870 10` stays an id and an amount). A reason
    after the customer, from a word for "because" on, stays after the amount."""
    if not tokens or not (AMOUNT_LIKE.match(tokens[0]) or tokens[0].casefold() in _NUMBER_WORDS):
        return tokens
    at = 2 if len(tokens) > 1 and is_unit(tokens[1]) else 1
    if at + 1 < len(tokens) and tokens[at].casefold() in _TO_OR_FROM_WHOM:
        whom = tokens[at + 1 :]
        why = next((i for i, w in enumerate(whom) if i and w.casefold() in _BECAUSE), len(whom))
        return [*whom[:why], *tokens[:at], *whom[why:]]  # `a juan por su compra`: its reason
    return tokens


# A number written as a word, said first (`suma diez a ana`, `add ten to ana`): moved as an
# amount is, so the amount's reader says to write it in digits, rather than the words
# being looked up as a customer called "diez a ana". (Not read as the number: Diez and
# Cinco are surnames too.)
_NUMBER_WORDS = frozenset(
    {"dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"}  # not un/una
    | {"diez", "once", "doce", "quince", "veinte", "treinta", "cuarenta", "cincuenta", "cien"}
    | {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}  # not one
    | {"eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred"}
)


# A reason's first word after whom the amount is for: `10 a juan por su compra`.
_BECAUSE = frozenset({"por", "porque", "for", "because"})


def joined_sign(tokens: list[str]) -> list[str]:
    """`juan = 100`, `juan fijar 100` -> `juan =100`: the first sign, or verb for one, after
    the customer's first word that comes right before an unsigned number joins it."""
    for i in range(1, len(tokens) - 1):
        word = tokens[i].casefold()
        sign = _SIGNS.get(word) or _SIGN_VERBS.get(word)
        if sign and _UNSIGNED.match(tokens[i + 1]):
            return [*tokens[:i], sign + tokens[i + 1], *tokens[i + 2 :]]
    return tokens


# A number with a word joined to it: `10pts`, `250mxn`, `+5puntos`.
_NUMBER_AND_WORD = re.compile(r"^([+\-=−]?\d[\d.,]*)([^\W\d_]+\.?)$")


def unit_apart(tokens: list[str], is_unit: Callable[[str], bool]) -> list[str]:
    """`10pts` -> `10`, `pts`; `250mxn` -> `250`, `mxn`: an amount typed with its unit or
    currency joined to it, apart (`is_unit` says which words are), as if typed apart."""
    apart: list[str] = []
    for token in tokens:
        joined = _NUMBER_AND_WORD.match(token)
        if joined and is_unit(joined.group(2)):
            apart += [joined.group(1), joined.group(2)]
        else:
            apart.append(token)
    return apart


def without_unit(reason: str) -> str:
    """The reason after a points amount, without a first word that only names the unit."""
    first, _, rest = reason.partition(" ")
    return rest.strip() if is_points_unit(first) else reason


# A word that is part of a phone number as people type one: `+52`, `(999)`, `411-6533`.
_PHONE_PART = re.compile(r"^[+(]?[\d().\-]*\d[\d().\-]*$")


def customer_draft(text: str, region: str = "") -> tuple[str, str, str, str]:
    """What `customer new Rosa Díaz rosa@example.com 55 1234 5678` typed after `new`, as
    the new-customer form's first name, last name, email and phone (international, as
    the form asks for it): the first email and phone number in it, and the other words
    the name (its first word the first name). A word with an @ or digits that is not an
    email or phone number is still put in that field, as typed, where the form says what
    is wrong with it (`pedro@example` is not a last name)."""
    words = _EMAIL.sub(" ", text).split()
    emails = _EMAIL.findall(text) or [w for w in words if "@" in w]
    phones = [international(p) for p in numbers_in(text, region)] or [
        " ".join(w for w in words if _PHONE_PART.match(w))
    ]
    name = [w for w in words if "@" not in w and not _PHONE_PART.match(w)]
    if len(name) > 1 and name[0].lower() == "a":  # `registra a Pedro Páramo`: Spanish's a
        name = name[1:]
    first, last = (name[0], " ".join(name[1:])) if name else ("", "")
    return first, last, emails[0] if emails else "", phones[0]


# A word of a person's name as typed: letters, with an inner apostrophe, hyphen or dot.
NAME_WORD = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?")
_MOST_NAMES = 40  # the full names a message is read for, at most


def names_in(text: str) -> list[str]:
    """What may be a customer's full name in a message: every two and three words in a
    row (`Juana Pérez quiere canjear` gives `Juana Pérez`, `Pérez quiere`, …), to be
    matched whole against the list."""
    words = [w.rstrip(".") for w in NAME_WORD.findall(_LINK.sub(" ", text or ""))]
    names = [" ".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
    return names[:_MOST_NAMES]


def references_in(text: str, region: str = "") -> list[str]:
    """The emails and phone numbers in a message as Slack sends it (its links undone),
    each once, emails first: what a message shortcut looks customers up by."""
    text = _LINK.sub(lambda m: m.group(3) or m.group(2), text or "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    emails: list[str] = []
    for email in _EMAIL.findall(text):
        if email.casefold() not in (e.casefold() for e in emails):
            emails.append(email)
    return emails + numbers_in(text, region)
