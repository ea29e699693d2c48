"""One exception hierarchy. Every error carries a message fit to show a shop manager."""

from __future__ import annotations


class LoyaltyError(Exception):
    """Base of every error the bot knows how to explain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LoyaltyError):
    """A setting is missing or malformed."""


class LoyaltyAPIError(LoyaltyError):
    """Something went wrong talking to the Smart Passes Loyalty API."""

    status_code: int | None = None


class ValidationFailed(LoyaltyAPIError):
    """400/422: the API refused the data; `field_errors` maps a field to its reasons."""

    def __init__(
        self,
        message: str,
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
            "Smart Passes refused the App Key. Check SMARTPASSES_APP_KEY and the program id."
        )


class NotFound(LoyaltyAPIError):
    status_code = 404

    def __init__(self, what: str = "That record") -> None:
        super().__init__(f"{what} was not found in the loyalty program. It may have been deleted.")


class RateLimited(LoyaltyAPIError):
    status_code = 429

    def __init__(self, retry_after: float | None = None) -> None:
        wait = f" Try again in {retry_after:.0f} seconds." if retry_after else " Try again shortly."
        super().__init__("Smart Passes is receiving too many requests." + wait)
        self.retry_after = retry_after


class ServerError(LoyaltyAPIError):
    def __init__(self, status_code: int) -> None:
        super().__init__(
            f"Smart Passes had a problem on its side (HTTP {status_code}). Try again in a minute."
        )
        self.status_code = status_code


class ApiUnavailable(LoyaltyAPIError):
    """Could not reach the API, or it did not answer a read in time."""

    def __init__(self, detail: str = "could not be reached") -> None:
        super().__init__(f"Smart Passes {detail}. Nothing was changed; try again in a minute.")


class OutcomeUnknown(LoyaltyAPIError):
    """A non-repeatable request may or may not have been applied."""

    def __init__(self, action: str = "The change") -> None:
        super().__init__(
            f"{action} was sent but Smart Passes did not answer in time, so it may or may not "
            "have been applied. Check the balance before trying again."
        )


class UnexpectedResponse(LoyaltyAPIError):
    def __init__(self, status_code: int) -> None:
        super().__init__(
            f"Smart Passes answered in a way the bot did not expect (HTTP {status_code})."
        )
        self.status_code = status_code


# -- domain errors raised by the bot's own rules ---------------------------


class InvalidInput(LoyaltyError):
    """What the person typed cannot be used; nothing was called."""


class PermissionDenied(LoyaltyError):
    def __init__(self, action: str) -> None:
        super().__init__(
            f"Only loyalty *managers* can {action}. Ask a manager, or ask your Slack admin "
            "to add you to LOYALTY_MANAGERS or the managers user group."
        )
        self.action = action


class CustomerNotFound(LoyaltyError):
    def __init__(self, query: str) -> None:
        super().__init__(
            f"No customer matches “{query}”. Try `/loyalty customers {query}` to search."
        )
        self.query = query


class ChangeRefused(LoyaltyError):
    """A change the rules do not allow (balance below zero, too old to undo, ...)."""


class StaleForm(LoyaltyError):
    """The record changed or vanished after the form was opened; nothing was saved."""


class AlreadyDone(LoyaltyError):
    """A confirmation button that was already used."""
