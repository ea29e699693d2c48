"""Commands on the records: `summary`, `reconcile`, `verify`, `migrate`, and the keys that
seal them (`new-key`, `rotate-key`)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.serving import _one_shop, _settings
from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    pass


def _summary(args: argparse.Namespace) -> int:
    from bot.slack.render import render_blocks
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store

    settings = _settings(args)
    _one_shop(settings, "summary")
    store = Store.from_url(settings.database_url)
    with LoyaltyClient.from_settings(settings) as api:
        if not args.post:
            from bot.core.summary import build_summary
            from bot.i18n import speaking
            from bot.slack.blocks import summary_message

            with speaking(settings.loyalty_language):
                message = summary_message(build_summary(api, store, settings.tz), settings.tz)
            print(render_blocks(message.blocks, fallback=message.text))
            return 0
        from bot.jobs.summary import PostedNotRecorded, post_summary
        from bot.runtime.app import SLACK_SCHEDULED_WAIT_SECONDS, slack_client

        try:
            result = post_summary(
                slack_client(settings, timeout=SLACK_SCHEDULED_WAIT_SECONDS),
                api,
                store,
                settings,
                args.channel,
                force=args.force,
            )
        except ConfigError:
            raise
        except PostedNotRecorded as exc:  # in the channel: a second run would post it twice
            posted, cause = exc.unrecorded.posted, exc.__cause__
            why = _why(cause if isinstance(cause, Exception) else exc)
            print(
                f"loyalty-bot: posted the summary for {posted.day} to {posted.channel}, but the "
                f"database could not record it ({why}); do not post it again today",
                file=sys.stderr,
            )
            return 1
        except Exception as exc:  # one clear line for cron, not a traceback
            print(f"loyalty-bot: the summary was not posted: {_why(exc)}", file=sys.stderr)
            return 1
    if result.already:
        print(
            f"Today's summary ({result.day}) was already posted to {result.channel}; "
            "nothing posted (use --force to post it again)."
        )
    else:
        print(f"Posted the summary for {result.day} to {result.channel}.")
    return 0


def _new_key(args: argparse.Namespace) -> int:
    from bot.store.sealed import new_key

    print(new_key())
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypt every stored App Key and Slack token with the first key of
    LOYALTY_ENCRYPTION_KEY."""
    from bot.store.database import Store
    from bot.store.installations import seal_rows
    from bot.store.sealed import InvalidToken, KeyBox
    from bot.store.workspaces import WorkspaceRecords

    settings = _settings(args)
    if settings.loyalty_encryption_key is None:
        raise ConfigError(
            "LOYALTY_ENCRYPTION_KEY is not set: put the new key first and the old ones after "
            "it, comma-separated."
        )
    store = Store.from_url(settings.database_url)
    box = KeyBox(settings.loyalty_encryption_key.get_secret_value())
    records = WorkspaceRecords(store.engine, box)
    try:
        count = records.reseal_all()
        with store.engine.begin() as conn:
            tokens = seal_rows(conn, box, reseal=True)
    except InvalidToken:
        print(
            "loyalty-bot: an App Key or a Slack token was sealed with a key that is not in "
            "LOYALTY_ENCRYPTION_KEY; keep the old keys after the new one.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Re-encrypted {count} App Key(s) and {tokens} Slack token(s) with the first key. "
        "The other keys in LOYALTY_ENCRYPTION_KEY can now be removed."
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """The database brought to the latest schema before the new version serves (the
    Procfile's release step): its web processes then start at it, and never load Alembic."""
    from bot.store.database import Store

    store = Store.from_url(_settings(args).database_url)
    try:
        print(f"The database is at revision {store.schema_version()}.")
    finally:
        store.engine.dispose()
    return 0


def _why(exc: Exception) -> str:
    from slack_sdk.errors import SlackApiError
    from sqlalchemy.exc import DBAPIError

    from bot.domain.errors import LoyaltyError

    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.get('error')!r}" + (
            " (invite the bot to that channel)"
            if exc.response.get("error") == "not_in_channel"
            else ""
        )
    if isinstance(exc, LoyaltyError):
        return exc.message
    if isinstance(exc, DBAPIError) and exc.orig is not None:  # its own text runs to lines
        return f"the database answered {str(exc.orig)!r}"
    return f"{type(exc).__name__}: {exc}"


def _reconcile(args: argparse.Namespace) -> int:
    """Settle the changes left pending by a process that stopped mid-change."""
    from bot.core.ledger import Ledger
    from bot.core.reconcile import SETTLE_AFTER, reconcile, still_pending
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store
    from bot.store.locks import locks_for

    settings = _settings(args)
    _one_shop(settings, "reconcile")
    store = Store.from_url(settings.database_url)
    locks = locks_for(store.engine)
    try:
        with LoyaltyClient.from_settings(settings) as api:
            settled = reconcile(api, store, Ledger(store, locks, program=api.program))
        waiting = still_pending(store)
    finally:
        locks.close()
        store.engine.dispose()
    for result in settled:
        print(result)
    if settled:
        print(f"{len(settled)} pending change(s) settled.")
    if waiting:
        minutes = int(SETTLE_AFTER.total_seconds() // 60)
        print(
            f"{waiting} change(s) still pending: being made now, or too recent to call not "
            f"applied (their answers may still arrive). Run this again in {minutes} minutes."
        )
    if not settled and not waiting:
        print("Nothing was pending.")
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Each customer's balance as the bot's records have it against Smart Passes' own."""
    from bot.core.index.customer_list import CustomerList
    from bot.core.verify import verify
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store

    settings = _settings(args)
    _one_shop(settings, "verify")
    store = Store.from_url(settings.database_url)
    try:
        with LoyaltyClient.from_settings(settings) as api:
            verified = verify(store, api.list_customers(CustomerList.from_json))
    finally:
        store.engine.dispose()
    for d in verified.differences:
        mark = "FLAGGED" if d.flagged else "outside"
        print(
            f"{mark}  customer {d.customer_id} {d.name}: records {d.recorded:,}, "
            f"Smart Passes {d.live:,} ({d.delta:+,})"
        )
    print(
        f"{verified.compared:,} customer(s) the bot changed compared: "
        f"{len(verified.differences):,} changed outside the bot "
        f"(+{verified.added:,} / -{verified.removed:,} points), "
        f"{len(verified.flagged):,} flagged."
    )
    if verified.flagged:
        print(
            "Flagged: the last change through the bot to these customers was not confirmed "
            "when it was made; check their history (/loyalty history #ID) and balance."
        )
    return 0


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value
