"""One exception hierarchy. Every error carries what to tell a shop manager, as a `Say`
(presentation writes it); `.message` is its plain English, for logs and records.

`safe_to_retry` says whether the error proves nothing was changed: a one-time key
claimed for the action is then released, so the person can simply try again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain.say import N_, Code, Command, Duration, Name, Say, Strong, noun, said


class LoyaltyError(Exception):
    """Base of every error the bot knows how to explain."""

    safe_to_retry = True

    def __init__(self, say: Say | str) -> None:
        self.say = said(say)
        super().__init__(str(self.say))

    @property
    def message(self) -> str:
        return str(self.say)


class ConfigError(LoyaltyError):
    """A setting is missing or malformed (shown to whoever runs the bot, not to staff)."""


class LoyaltyAPIError(LoyaltyError):
    """Something went wrong talking to the Smart Passes Loyalty API."""

    status_code: int | None = None

    @property
    def brief(self) -> Say:
        """What went wrong in a few words, to say inside another message."""
        if self.status_code:
            return Say("HTTP {code}", code=str(self.status_code))
        return Say("no answer")


# -- Smart Passes definitely refused: nothing was applied ------------------------------


class ValidationFailed(LoyaltyAPIError):
    """400/422: the API refused the data; `field_errors` maps a field to its reasons."""

    def __init__(
        self,
        message: str | Say,  # a str is Smart Passes' own words, shown as they came
        field_errors: dict[str, list[str]] | None = None,
        status_code: int = 422,
    ) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}
        self.status_code = status_code


class AuthenticationFailed(LoyaltyAPIError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "Smart Passes refused the bot's App Key, so nothing was looked up or changed. "
            "Tell whoever runs the bot: the App Key or the program id needs checking."
        )


class NotFound(LoyaltyAPIError):
    status_code = 404

    def __init__(self, what: str = N_("That record")) -> None:
        super().__init__(
            Say(
                "{what} was not found in the loyalty program. It may have been deleted.",
                what=noun(what),
            )
        )


# -- reads that failed (nothing is ever changed by a read) -------------------------------


class RateLimited(LoyaltyAPIError):
    status_code = 429

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__(
            Say(
                "Smart Passes is receiving too many requests. Try again in {seconds} seconds.",
                seconds=round(retry_after),
            )
            if retry_after
            else Say("Smart Passes is receiving too many requests. Try again shortly.")
        )
        self.retry_after = retry_after


class ServerError(LoyaltyAPIError):
    def __init__(self, status_code: int) -> None:
        super().__init__(
            Say(
                "Smart Passes had a problem on its side (HTTP {status}). Nothing was "
                "changed; try again in a minute.",
                status=status_code,
            )
        )
        self.status_code = status_code


class ApiUnavailable(LoyaltyAPIError):
    """Could not reach the API (the request never left), or a read got no answer in time."""

    def __init__(self, detail: str = N_("could not be reached")) -> None:
        super().__init__(
            Say(
                "Smart Passes {detail}. Nothing was changed; try again in a minute.",
                detail=noun(detail),
            )
        )


class UnexpectedResponse(LoyaltyAPIError):
    def __init__(self, status_code: int) -> None:
        super().__init__(
            Say(
                "Smart Passes answered in a way the bot did not expect (HTTP {status}).",
                status=status_code,
            )
        )
        self.status_code = status_code


# -- a change whose outcome is not known from the answer -----------------------------------


class OutcomeUnknown(LoyaltyAPIError):
    """A change was sent, but the answer does not say whether it was applied.

    The client raises it with `cause` (what went wrong: "HTTP 500", "no answer in time")
    and `answered`: False when no answer came at all (a timeout, a dropped connection), so
    Smart Passes may still be working on the request. The service then checks by
    re-reading, and raises it again with a message saying what to check only if that did
    not settle it."""

    safe_to_retry = False

    def __init__(self, say: Say | str = "", *, cause: str = "", answered: bool = True) -> None:
        super().__init__(
            say
            or Say(
                "The change was sent but {cause}, so it may or may not have been applied. "
                "Check before trying again.",
                cause=noun(cause or "no clear answer came back"),
            )
        )
        self.cause = cause
        self.answered = answered


class NotApplied(LoyaltyError):
    """The answer was unclear, but checking showed the change was not applied."""


# -- domain errors raised by the bot's own rules ---------------------------


class InvalidInput(LoyaltyError):
    """What the person typed cannot be used; nothing was called."""


class MalformedRequest(InvalidInput):
    """A signed request whose payload is not what the bot sends or Slack builds."""

    def __init__(self, what: str = N_("request")) -> None:
        super().__init__(
            Say("I could not understand that {what}, so nothing was done.", what=noun(what))
        )


MANAGERS = N_("managers")  # the role, as refusals name it


class PermissionDenied(LoyaltyError):
    def __init__(self, action: str, managers: Say | None = None) -> None:
        super().__init__(
            Say(
                "Only loyalty {managers} can {action}. Ask {who} to do it, or ask whoever runs "
                "the bot to make you a manager.",
                managers=Strong(MANAGERS),
                action=noun(action),
                who=managers or Say("a manager"),
            )
        )
        self.action = action


class CustomerNotFound(LoyaltyError):
    """Nothing matches, in the latest list (read again for a whole email or phone) and, for
    an id, at Smart Passes itself. `read_as`: how a phone number without its country code
    was read (`+52 999 411 6533`); `unread`: it was one, and no country is set to read it."""

    def __init__(self, query: str, *, read_as: str = "", unread: bool = False) -> None:
        search = Command("customers", query)
        if read_as:
            say = Say(
                "No customer matches “{query}” (read as the phone number {number}). Try "
                "{search} to search.",
                query=Name(query),
                number=Code(read_as),
                search=search,
            )
        elif unread:
            say = Say(
                "No customer matches “{query}”. If it is a phone number, type it with its "
                "country code (like {example}): the shop's country is not set, so numbers "
                "without one cannot be read. Try {search} to search.",
                query=Name(query),
                example=Code("+52 999 411 6533"),
                search=search,
            )
        else:
            say = Say(
                "No customer matches “{query}”. Try {search} to search.",
                query=Name(query),
                search=search,
            )
        super().__init__(say)
        self.query = query


class StillLooking(LoyaltyError):
    """`query` is not in the bot's list, and reading Smart Passes for it is taking longer
    than a person should wait: they are told so, and `later` gives the answer (a
    LookupResult, or None for no match)."""

    def __init__(self, query: str, later: Any) -> None:
        super().__init__(
            Say(
                "“{query}” is not in my list yet. I am reading the latest one from Smart "
                "Passes (someone who just signed up is in it) and will answer here in a "
                "moment; nothing was changed.",
                query=Name(query),
            )
        )
        self.query, self.later = query, later


class ChangeRefused(LoyaltyError):
    """A change the rules do not allow (balance below zero, too old to undo, ...)."""


class AlreadyUndone(ChangeRefused):
    """The change to undo was undone already (by anyone, from anywhere)."""


class OverAllowance(PermissionDenied, ChangeRefused):
    """A clerk's points change beyond the clerk allowance (per change or per day)."""

    def __init__(self, why: Say, managers: Say) -> None:
        LoyaltyError.__init__(
            self, Say("{why} Ask {who} to add more. Nothing was changed.", why=why, who=managers)
        )
        self.action = "add more points"


class AlreadyTaken(ChangeRefused):
    """What a form would save already belongs to another record: shown beside `field`.
    `confirmable` (a folded name) when sending the same name again may go ahead anyway."""

    def __init__(self, say: Say, field: str, confirmable: str = "") -> None:
        super().__init__(say)
        self.field = field
        self.confirmable = confirmable


class StaleForm(LoyaltyError):
    """The record changed or vanished after the form was opened; nothing was saved."""


class AlreadyDone(LoyaltyError):
    """A button, command or form that was already used: nothing more was done."""

    safe_to_retry = False


class Duplicate(AlreadyDone):
    """The same command, click or form submission again: its key was claimed before."""


class RecordUnavailable(LoyaltyError):
    """The bot's own database cannot record a change, so the change is not attempted."""

    def __init__(self) -> None:
        super().__init__(
            Say(
                "Nothing was changed: I cannot record changes right now (my database is not "
                "answering), and I never change anything without a record. Try again in a few "
                "minutes; if it lasts, tell whoever runs the bot."
            )
        )


class Busy(LoyaltyError):
    """Another change to the same record is still being made."""

    def __init__(self, what: str | Say = N_("this record")) -> None:  # noqa: B008
        super().__init__(
            Say(
                "Another change to {what} is still being made, so nothing was changed. "
                "Try again in a moment.",
                what=noun(what),
            )
        )


class Fenced(LoyaltyError):
    """Another change to the record was sent and is not settled yet (its process may be
    gone, or its answer was unclear): nothing was sent, so it is safe to try again later."""

    def __init__(self, what: Say, who: Say, age: dt.timedelta, left: dt.timedelta) -> None:
        super().__init__(
            Say(
                "A change to {what} by {who} is still being settled (started {age} ago); "
                "nothing was changed. Try again in {left}.",
                what=what,
                who=who,
                age=Duration(age),
                left=Duration(left),
            )
        )


class LockLost(LoyaltyError):
    """The bot lost its hold on the record before sending: nothing was sent."""

    def __init__(self) -> None:
        super().__init__(
            Say(
                "Nothing was changed: I lost my connection to my database just before sending "
                "the change, so I did not send it. Try again in a moment."
            )
        )
