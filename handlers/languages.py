"""Each person's language, from their Slack locale (`users.info` with `include_locale`),
cached like other user data; the fallback (`LOYALTY_LANGUAGE`) when it cannot be read.

Nothing before an ack may wait on Slack: the request context takes what is cached
(`known`) or the fallback, and the locale is asked for after the ack (`of`, from the work
after the ack, or `learn` in the background). Two asks for one person at once make one
call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.i18n import of_locale
from handlers.slackapi import SLACK_FAILED, why

log = logging.getLogger(__name__)

LANGUAGE_CACHE_SECONDS = 3600.0
ASK_WAIT_SECONDS = 3.0  # a second asker waits this long for the first one's answer


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
        self._asking: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def known(self, user_id: str) -> str | None:
        """`user_id`'s language if it is cached and fresh; None if Slack must be asked.
        No I/O: for before the ack."""
        with self._lock:
            known = self._known.get(user_id)
        if known is not None and self._clock() - known[0] < self._cache_seconds:
            return known[1]
        return None

    def of(self, client: WebClient, user_id: str) -> str:
        """`user_id`'s language: `es-*` locales read Spanish, any other English. Asks
        Slack when it is not known (so only after the ack); never raises."""
        if not user_id:
            return self.fallback
        if (lang := self.known(user_id)) is not None:
            return lang
        with self._lock:
            asking = self._asking.get(user_id)
            mine = asking is None
            if mine:
                asking = self._asking[user_id] = threading.Event()
        assert asking is not None
        if not mine:  # someone is asking Slack already: their answer will do
            asking.wait(ASK_WAIT_SECONDS)
            return self.known(user_id) or self.fallback
        try:
            return self._ask(client, user_id)
        finally:
            with self._lock:
                self._asking.pop(user_id, None)
            asking.set()

    def learn(
        self, client: WebClient, user_id: str, run: Callable[[Callable[[], object]], object]
    ) -> None:
        """Ask for `user_id`'s language in the background (`run` starts a job), so their
        next answer is in it; nothing if it is known."""
        if not user_id or self.known(user_id) is not None:
            return
        try:
            run(lambda: self.of(client, user_id))
        except Exception as exc:  # a full work pool: it is asked next time
            log.info("did not ask for %s's language now: %s", user_id, type(exc).__name__)

    def _ask(self, client: WebClient, user_id: str) -> str:
        try:
            user = client.users_info(user=user_id, include_locale=True).get("user") or {}
        except SLACK_FAILED as exc:  # unknown: the workspace's language, asked again later
            log.info("no locale for %s: %s", user_id, why(exc))
            return self.fallback
        lang = of_locale(user.get("locale"), self.fallback)
        with self._lock:
            self._known[user_id] = (self._clock(), lang)
        return lang
