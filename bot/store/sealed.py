"""Secrets the bot must keep and use again (each workspace's App Key), encrypted with
Fernet from LOYALTY_ENCRYPTION_KEY: one key, or several comma-separated, newest first.
The newest encrypts; any of them decrypts, so a new key can be put first and
`loyalty-bot rotate-key` re-encrypts what was sealed with the old ones.

`cryptography` is imported when a key is first used: a bot serving one workspace never
seals anything and never loads it (each worker's memory: bench_memory)."""

from __future__ import annotations

from bot.domain.errors import ConfigError

__all__ = ["InvalidToken", "KeyBox", "new_key"]


class InvalidToken(Exception):
    """None of the keys sealed this (or it was altered)."""


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class KeyBox:
    def __init__(self, keys: str) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        parts = [part.strip() for part in keys.split(",") if part.strip()]
        try:
            fernets = [Fernet(part.encode()) for part in parts]
        except (ValueError, TypeError):
            raise ConfigError(
                "LOYALTY_ENCRYPTION_KEY is not valid: put one or more Fernet keys there, "
                "comma-separated, newest first (make one with `loyalty-bot new-key`)."
            ) from None
        if not fernets:
            raise ConfigError(
                "LOYALTY_ENCRYPTION_KEY is empty: make a key with `loyalty-bot new-key`."
            )
        self._box = MultiFernet(fernets)

    def seal(self, secret: str) -> str:
        return self._box.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; InvalidToken if none of the keys sealed it."""
        from cryptography import fernet

        try:
            return self._box.decrypt(sealed.encode()).decode()
        except fernet.InvalidToken:
            raise InvalidToken() from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed with the newest key; InvalidToken if none sealed it."""
        from cryptography import fernet

        try:
            return self._box.rotate(sealed.encode()).decode()
        except fernet.InvalidToken:
            raise InvalidToken() from None
