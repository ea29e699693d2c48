"""Slack's last answer to auth.test for the bot token (single-workspace mode)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.domain.audit import utcnow
from bot.store.base import StoreBase
from bot.store.schema import bot_identity


def token_digest(token: str) -> str:
    """The key a token's answer is kept under: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class BotIdentity(StoreBase):
    def remember_identity(self, token: str, answer: dict[str, Any]) -> None:
        """Keep `answer` (auth.test's, with the token's scopes) as the token's latest. The
        web workers of one deployment start at once: one of them inserts it, and another
        that finds it inserted meanwhile has nothing to add (the same token's answer)."""
        row = {"answer": json.dumps(answer), "learned_at": utcnow()}
        mine = bot_identity.c.token_digest == token_digest(token)
        with self.engine.begin() as conn:
            if conn.execute(bot_identity.update().where(mine), row).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(bot_identity.insert(), {"token_digest": token_digest(token), **row})
        except IntegrityError:
            return  # another process kept it at the same moment

    def identity(self, token: str) -> dict[str, Any] | None:
        """The answer kept for `token`, if Slack ever answered for it here."""
        with self.engine.connect() as conn:
            answer = conn.execute(
                bot_identity.select().where(bot_identity.c.token_digest == token_digest(token))
            ).first()
        return json.loads(answer.answer) if answer is not None else None
