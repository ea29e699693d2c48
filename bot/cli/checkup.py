"""`loyalty-bot checkup`: a checklist of what the bot relies on."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.cli.serving import _one_shop, _settings

if TYPE_CHECKING:
    from bot.runtime.checkup import Check


def _checkup(args: argparse.Namespace) -> int:
    """A checklist of what the bot relies on, in LOYALTY_LANGUAGE; exits 1 if anything on
    it failed."""
    from bot.i18n import _, ngettext, speaking
    from bot.runtime import checkup
    from bot.smartpasses.client import LoyaltyClient

    settings = _settings(args)
    _one_shop(settings, "checkup")
    checks = []
    with speaking(settings.loyalty_language):
        print(_("Loyalty API: {url}").format(url=settings.smartpasses_base_url))
        with LoyaltyClient.from_settings(settings, max_retries=0) as api:
            checks += _print(checkup.loyalty_api(api))
        print("Slack:")
        if settings.slack_bot_token is None:
            print(_("  - not set up (SLACK_BOT_TOKEN): only the offline console can run"))
        else:
            from bot.runtime.app import slack_client

            checks += _print(checkup.slack(settings, slack_client(settings)))
        print(_("Database:"))
        checks += _print(checkup.database(settings.database_url))
        failed = [c for c in checks if not c.ok]
        problems = ngettext("{count} problem to fix.", "{count} problems to fix.", len(failed))
        print(problems.format(count=len(failed)) if failed else _("All good."))
    return 1 if failed else 0


def _print(checks: Iterable[Check]) -> list[Check]:
    done = []
    for check in checks:
        print(check, file=sys.stdout if check.ok else sys.stderr, flush=True)
        done.append(check)
    return done
