"""Deleting and canceling: show what will happen, act only on the button that names it."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.core.service import CUSTOMER_DELETE
from bot.domain.audit import Action
from bot.slack import blocks
from bot.slack.ids import ActionId, Confirm
from handlers.after_ack import after_ack
from handlers.context import Env


def ask(env: Env, kind: Action, target_id: int) -> None:
    """Refuse early what cannot be done (role, state); otherwise show the confirmation,
    saying what will happen (with the record as it is now)."""
    token, _ = env.service.ask_to_confirm(env.actor, kind, target_id)
    record = (
        env.service.customer(target_id) if kind == CUSTOMER_DELETE else env.service.offer(target_id)
    )
    env.reply(blocks.confirmation(kind, token, blocks.consequences(kind, record)))


def register(app: App) -> None:
    @app.action(ActionId.CONFIRM)
    @after_ack
    def confirm(env: Env, value: str) -> None:
        # Roles are checked again here, and the store lets only one click act.
        done = env.service.confirm(env.actor, Confirm.decode(value).token)
        assert done.entry is not None
        entry = done.entry
        env.replacing().reply(
            blocks.confirmed(entry.action, entry.target_name, env.user_id, done.remarks)
        )
        env.announce(done.entry)

    @app.action(ActionId.DISMISS)
    def dismiss(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)
