"""`loyalty-bot check`: everything a deployment relies on, checked once, as a checklist.

For whoever runs the bot (so it names settings): the Loyalty API answers with this App Key
and program; the Slack token is valid (auth.test); the bot is a member of each configured
channel (conversations.info); each configured manager and the managers group exist; the
bot's database can be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import AuthenticationFailed, LoyaltyAPIError, NotFound
from bot.runtime.settings import Settings
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str

    def __str__(self) -> str:
        return f"  {'✓' if self.ok else '✗'} {self.what}: {self.detail}"


def loyalty_api(api: LoyaltyClient) -> Iterator[Check]:
    what = f"Loyalty API, program {api.program_id}"
    try:
        customers, offers = api.list_customers(), api.list_offers()
    except AuthenticationFailed:
        yield Check(False, what, "Smart Passes refused the App Key: check SMARTPASSES_APP_KEY")
    except NotFound:
        yield Check(False, what, "no such program: check SMARTPASSES_PROGRAM_ID")
    except LoyaltyAPIError as exc:
        yield Check(False, what, f"not reachable: {exc.message}")
    else:
        yield Check(True, what, f"{len(customers)} customers, {len(offers)} offers")


def database(url: str) -> Iterator[Check]:
    what = "the bot's database (DATABASE_URL)"
    try:
        store = Store.from_url(url)
    except Exception as exc:  # any failure to open or migrate it is the answer here
        yield Check(False, what, f"cannot be used: {type(exc).__name__}")
        return
    ok = store.reachable()
    yield Check(ok, what, f"schema version {store.schema_version()}" if ok else "unreachable")
    store.engine.dispose()


def slack(settings: Settings, client: WebClient) -> Iterator[Check]:
    try:
        me = client.auth_test()
    except SlackApiError as exc:
        yield Check(False, "Slack token (SLACK_BOT_TOKEN)", f"refused: {exc.response['error']}")
        return
    yield Check(True, "Slack token", f"the bot @{me['user']} in {me['team']} ({me['team_id']})")
    channels = {
        "approvals channel (LOYALTY_APPROVALS_CHANNEL)": settings.loyalty_approvals_channel,
        "summary channel (LOYALTY_SUMMARY_CHANNEL)": settings.loyalty_summary_channel,
        "audit channel (LOYALTY_AUDIT_CHANNEL)": settings.loyalty_audit_channel,
    }
    for what, channel in channels.items():
        if channel:
            yield _channel(client, what, channel)
    if not settings.loyalty_managers and not settings.loyalty_manager_group:
        yield Check(False, "managers", "none set: set LOYALTY_MANAGERS or LOYALTY_MANAGER_GROUP")
    for user in settings.loyalty_managers:
        yield _manager(client, user)
    if settings.loyalty_manager_group:
        yield _group(client, settings.loyalty_manager_group)


def _channel(client: WebClient, what: str, channel: str) -> Check:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = exc.response["error"]
        if error == "channel_not_found":
            return Check(False, f"{what} {channel}", "not found (or private, without the bot)")
        return Check(False, f"{what} {channel}", f"cannot be checked: {error}")
    if not info.get("is_member"):
        return Check(
            False, f"{what} {channel}", f"the bot is not in #{info.get('name')}: /invite it"
        )
    return Check(True, f"{what} {channel}", f"#{info.get('name')}, the bot can post there")


def _manager(client: WebClient, user: str) -> Check:
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError as exc:
        return Check(
            False, f"manager {user} (LOYALTY_MANAGERS)", f"no such user: {exc.response['error']}"
        )
    if info.get("deleted"):
        return Check(False, f"manager {user} (LOYALTY_MANAGERS)", "this account is deactivated")
    return Check(True, f"manager {user}", str(info.get("real_name") or info.get("name")))


def _group(client: WebClient, group: str) -> Check:
    what = f"managers group {group} (LOYALTY_MANAGER_GROUP)"
    try:
        members = client.usergroups_users_list(usergroup=group)["users"]
    except SlackApiError as exc:
        return Check(False, what, f"cannot be read: {exc.response['error']}")
    return Check(bool(members), what, f"{len(members)} member(s)")
