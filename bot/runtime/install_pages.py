"""The pages a person's browser shows at the end of Add to Slack, in their language (the
browser's Accept-Language, else the bot's): Bolt's own pages are in English only. A
success opens Slack at the bot's Home tab, where the workspace connects its Smart Passes
program; a failure says what happened and links back to the install page."""

from __future__ import annotations

import html

from babel.core import negotiate_locale
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.oauth.callback_options import FailureArgs, SuccessArgs

from bot.i18n import LANGUAGES, _, speaking

_PAGE = """<html>
<head>
<meta charset="utf-8">
<title>{title}</title>{refresh}
<style>
body {{ padding: 10px 15px; font-family: verdana, sans-serif; text-align: center; }}
</style>
</head>
<body>
<h2>{title}</h2>
{body}
</body>
</html>
"""

# Why Slack sent the person back without an installation, in their words (Bolt's reasons).
_CANCELLED = "access_denied"
_STALE = frozenset({"invalid_state", "invalid_browser"})


def browser_language(request: BoltRequest, fallback: str) -> str:
    """The first of the browser's languages (Accept-Language, in order of preference) that
    the bot speaks; `fallback` if none."""
    header = (request.headers.get("accept-language") or [""])[0]
    weighted = []
    for n, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, n, tag))
    preferred = [tag for _w, _n, tag in sorted(weighted)]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") or fallback


def _page(title: str, body: str, status: int, refresh: str = "") -> BoltResponse:
    meta = (
        f'\n<meta http-equiv="refresh" content="0; URL={html.escape(refresh)}">' if refresh else ""
    )
    return BoltResponse(
        status=status,
        body=_PAGE.format(title=html.escape(title), refresh=meta, body=body),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def success_page(args: SuccessArgs, fallback: str) -> BoltResponse:
    """Installed: thanks, and Slack opened at the bot's Home tab (the browser's Slack too)."""
    installed = args.installation
    team_id, app_id = installed.team_id, installed.app_id
    if installed.is_enterprise_install and installed.enterprise_url and app_id:
        url = f"{installed.enterprise_url}manage/organization/apps/profile/{app_id}/workspaces/add"
    elif team_id and app_id:
        url = f"slack://app?team={team_id}&id={app_id}&tab=home"
    else:
        url = "slack://open"
    in_browser = f"https://app.slack.com/client/{team_id}"
    with speaking(browser_language(args.request, fallback)):
        title = _("Thank you!")
        # (Babel does not find words inside an f-string)
        open_slack, open_there = _("open Slack"), _("open it there")
        said = _(
            "The Loyalty bot is installed in {workspace}. Slack opens at its Home tab, where "
            "you connect your Smart Passes program. If it does not, {open}; with Slack in a "
            "browser, {browser}."
        ).format(
            workspace=f"<b>{html.escape(installed.team_name or team_id or '')}</b>",
            open=f'<a href="{html.escape(url)}">{html.escape(open_slack)}</a>',
            browser=(
                f'<a href="{html.escape(in_browser)}" target="_blank">{html.escape(open_there)}</a>'
            ),
        )
    return _page(title, f"<p>{said}</p>", 200, refresh=url)


def failure_page(args: FailureArgs, fallback: str) -> BoltResponse:
    """Not installed: why, in the person's words, and the way back to Add to Slack."""
    again = html.escape(args.settings.install_path)
    with speaking(browser_language(args.request, fallback)):
        if args.reason == _CANCELLED:
            title = _("Not installed")
            said = _("The installation was cancelled in Slack, so nothing was installed.")
        elif args.reason in _STALE:
            title = _("Not installed")
            said = _(
                "This installation link has expired or was opened in another browser, so "
                "nothing was installed."
            )
        else:
            title = _("Something went wrong")
            said = _(
                "Slack could not finish the installation ({reason}), so nothing was installed. "
                "If it happens again, tell whoever runs the bot."
            ).format(reason=args.reason)
        add = _("Add to Slack")
        start = _("Start again from {link}.").format(
            link=f'<a href="{again}">{html.escape(add)}</a>'
        )
    return _page(title, f"<p>{html.escape(said)}</p>\n<p>{start}</p>", args.suggested_status_code)
