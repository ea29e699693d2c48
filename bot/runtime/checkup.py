"""`loyalty-bot checkup`: everything a deployment relies on, checked once, as a checklist,
in the operator's language (LOYALTY_LANGUAGE).

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

from bot.core.index.customer_list import CustomerList
from bot.domain.errors import AuthenticationFailed, ConfigError, LoyaltyAPIError, NotFound
from bot.domain.settings import Settings
from bot.i18n import _, ngettext, number
from bot.slack.text import plain
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from handlers.slackapi import SLACK_FAILED, why


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str

    def __str__(self) -> str:
        return f"  {'✓' if self.ok else '✗'} {self.what}: {self.detail}"


def loyalty_api(api: LoyaltyClient) -> Iterator[Check]:
    what = _("Loyalty API, program {program}").format(program=api.program_id)
    try:
        customers, offers = api.list_customers(CustomerList.from_json), api.list_offers()
    except AuthenticationFailed:
        yield Check(False, what, _("Smart Passes refused the App Key: check SMARTPASSES_APP_KEY"))
    except NotFound:
        yield Check(False, what, _("no such program: check SMARTPASSES_PROGRAM_ID"))
    except LoyaltyAPIError as exc:
        yield Check(False, what, _("not reachable: {why}").format(why=plain(exc.say)))
    else:
        yield Check(
            True,
            what,
            _("{customers} customers, {offers} offers").format(
                customers=number(len(customers)), offers=number(len(offers))
            ),
        )


def database(url: str) -> Iterator[Check]:
    what = _("the bot's database (DATABASE_URL)")
    try:
        store = Store.from_url(url)
    except ConfigError as exc:  # not a database the bot can use: the setting says which
        yield Check(False, what, exc.message)
        return
    except Exception as exc:  # any failure to open or migrate it is the answer here
        yield Check(False, what, _("cannot be used: {why}").format(why=type(exc).__name__))
        return
    ok = store.reachable()
    detail = (
        _("schema version {version}").format(version=store.schema_version())
        if ok
        else _("unreachable")
    )
    yield Check(ok, what, detail)
    store.engine.dispose()


def _no_answer(exc: BaseException) -> str:
    """A Slack call that got no answer: a network, proxy or SLACK_API_URL to look at."""
    return _("Slack did not answer ({why}): check this machine's network").format(why=why(exc))


def slack(settings: Settings, client: WebClient) -> Iterator[Check]:
    what = _("Slack token (SLACK_BOT_TOKEN)")
    try:
        me = client.auth_test()
    except SlackApiError as exc:
        yield Check(False, what, _("refused: {error}").format(error=exc.response["error"]))
        return
    except SLACK_FAILED as exc:
        yield Check(False, what, _no_answer(exc))
        return
    yield Check(
        True,
        _("Slack token"),
        _("the bot @{bot} in {team} ({team_id})").format(
            bot=me["user"], team=me["team"], team_id=me["team_id"]
        ),
    )
    channels = {
        _("approvals channel (LOYALTY_APPROVALS_CHANNEL)"): settings.loyalty_approvals_channel,
        _("summary channel (LOYALTY_SUMMARY_CHANNEL)"): settings.loyalty_summary_channel,
        _("audit channel (LOYALTY_AUDIT_CHANNEL)"): settings.loyalty_audit_channel,
    }
    for what, channel in channels.items():
        if channel:
            yield _channel(client, what, channel)
    if not settings.loyalty_managers and not settings.loyalty_manager_group:
        yield Check(
            False,
            _("managers"),
            _("none set: set LOYALTY_MANAGERS or LOYALTY_MANAGER_GROUP"),
        )
    for user in settings.loyalty_managers:
        yield _manager(client, user)
    if settings.loyalty_manager_group:
        yield _group(client, settings.loyalty_manager_group)


def _channel(client: WebClient, what: str, channel: str) -> Check:
    what = f"{what} {channel}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = exc.response["error"]
        if error == "channel_not_found":
            return Check(False, what, _("not found (or private, without the bot)"))
        return Check(False, what, _("cannot be checked: {error}").format(error=error))
    except SLACK_FAILED as exc:
        return Check(False, what, _no_answer(exc))
    name = info.get("name")
    if not info.get("is_member"):
        return Check(False, what, _("the bot is not in #{name}: /invite it").format(name=name))
    return Check(True, what, _("#{name}, the bot can post there").format(name=name))


def _manager(client: WebClient, user: str) -> Check:
    what = _("manager {user} (LOYALTY_MANAGERS)").format(user=user)
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError as exc:
        return Check(False, what, _("no such user: {error}").format(error=exc.response["error"]))
    except SLACK_FAILED as exc:
        return Check(False, what, _no_answer(exc))
    if info.get("deleted"):
        return Check(False, what, _("this account is deactivated"))
    name = str(info.get("real_name") or info.get("name"))
    return Check(True, _("manager {user}").format(user=user), name)


def _group(client: WebClient, group: str) -> Check:
    what = _("managers group {group} (LOYALTY_MANAGER_GROUP)").format(group=group)
    try:
        members = client.usergroups_users_list(usergroup=group)["users"]
    except SlackApiError as exc:
        return Check(False, what, _("cannot be read: {error}").format(error=exc.response["error"]))
    except SLACK_FAILED as exc:
        return Check(False, what, _no_answer(exc))
    count = len(members)
    counted = ngettext("{count} member", "{count} members", count).format(count=number(count))
    return Check(bool(members), what, counted)
