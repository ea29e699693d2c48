"""Each person's language, from their Slack locale (`users.info` with `include_locale`),
cached like other user data; the fallback (`LOYALTY_LANGUAGE`) when it cannot be read."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import of_locale

log = logging.getLogger(__name__)

LANGUAGE_CACHE_SECONDS = 3600.0


class Languages:
    def __init__(
        self,
        fallback: str,
        *,
        cache_seconds: float = LANGUAGE_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fallback = fallback
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._known: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def of(self, client: WebClient, user_id: str) -> str:
        """`user_id`'s language: `es-*` locales read Spanish, any other English."""
        if not user_id:
            return self.fallback
        with self._lock:
            known = self._known.get(user_id)
        if known is not None and self._clock() - known[0] < self._cache_seconds:
            return known[1]
        try:
            user = client.users_info(user=user_id, include_locale=True).get("user") or {}
        except SlackApiError as exc:  # unknown: the workspace's language, asked again later
            log.info("no locale for %s: %s", user_id, exc.response.get("error"))
            return self.fallback
        lang = of_locale(user.get("locale"), self.fallback)
        with self._lock:
            self._known[user_id] = (self._clock(), lang)
        return lang
