"""A workspace's settings as the Settings form shows and reads them, and the check that a
Smart Passes App Key and program work before they are saved (any-workspace mode)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import httpx
import phonenumbers
from slack_sdk import WebClient

from bot.core.validation import Field
from bot.domain.errors import AuthenticationFailed, LoyaltyError, NotFound
from bot.domain.logs import hide
from bot.domain.say import N_
from bot.domain.settings import CURRENCIES, Settings, known_zone, zone_named
from bot.i18n import _, number
from bot.slack.workspace_views import WorkspaceChoices
from bot.smartpasses.client import LoyaltyClient
from handlers.slackapi import SLACK_FAILED, why

log = logging.getLogger(__name__)

EDITABLE = {
    Field.MANAGERS: "loyalty_managers",
    Field.APPROVALS_CHANNEL: "loyalty_approvals_channel",
    Field.SUMMARY_CHANNEL: "loyalty_summary_channel",
    Field.AUDIT_CHANNEL: "loyalty_audit_channel",
    Field.SUMMARY_TIME: "loyalty_summary_time",
    Field.TIMEZONE: "loyalty_timezone",
    Field.LANGUAGE: "loyalty_language",
    Field.CLERK_MAX: "loyalty_clerk_max_points",
    Field.CLERK_DAILY: "loyalty_clerk_daily_points",
    Field.REGION: "loyalty_default_region",
    Field.ALERT_FACTOR: "loyalty_alert_factor",
    Field.ALERT_DAILY: "loyalty_alert_daily_floor",
    Field.ALERT_HOURLY: "loyalty_alert_customer_hourly",
    Field.EARN_POINTS: "loyalty_earn_points",
    Field.EARN_PER: "loyalty_earn_per_amount",
    Field.EARN_MINIMUM: "loyalty_earn_minimum",
    Field.EARN_ROUNDING: "loyalty_earn_rounding",
    Field.CURRENCY: "loyalty_currency",
}
MOST_MONEY = Decimal(1_000_000)
MOST_FACTOR = 100.0
MOST_POINTS = 1_000_000


def choices_of(settings: Settings) -> WorkspaceChoices:
    return WorkspaceChoices(
        managers=settings.loyalty_managers,
        approvals_channel=settings.loyalty_approvals_channel,
        summary_channel=settings.loyalty_summary_channel,
        audit_channel=settings.loyalty_audit_channel,
        summary_time=settings.loyalty_summary_time,
        timezone=settings.loyalty_timezone,
        language=settings.loyalty_language,
        clerk_max_points=settings.loyalty_clerk_max_points,
        clerk_daily_points=settings.loyalty_clerk_daily_points,
        region=settings.loyalty_default_region,
        alert_factor=settings.loyalty_alert_factor,
        alert_daily_floor=settings.loyalty_alert_daily_floor,
        alert_customer_hourly=settings.loyalty_alert_customer_hourly,
        earn_points=settings.loyalty_earn_points,
        earn_per_amount=settings.loyalty_earn_per_amount,
        earn_minimum=settings.loyalty_earn_minimum,
        earn_rounding=str(settings.loyalty_earn_rounding),
        currency=settings.loyalty_currency,
    )


def read_settings_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The Settings form's values as the workspace's stored choices, and what is wrong
    (by field, in the reader's language)."""
    chosen: dict[str, Any] = {}
    problems: dict[str, str] = {}
    chosen["loyalty_managers"] = [str(u) for u in values.get(Field.MANAGERS) or []]
    for field in (Field.APPROVALS_CHANNEL, Field.SUMMARY_CHANNEL, Field.AUDIT_CHANNEL):
        chosen[EDITABLE[field]] = values.get(field) or None
    when = str(values.get(Field.SUMMARY_TIME) or "")
    try:
        chosen["loyalty_summary_time"] = dt.time.fromisoformat(when).strftime("%H:%M")
    except ValueError:
        problems[Field.SUMMARY_TIME] = _("Choose a time, like 09:00.")
    zone = zone_named(str(values.get(Field.TIMEZONE) or ""))  # `Madrid`: Europe/Madrid
    if zone is None:
        problems[Field.TIMEZONE] = _("Not a time zone I know: write it like America/Mexico_City.")
    else:
        chosen["loyalty_timezone"] = zone
    language = values.get(Field.LANGUAGE)
    chosen["loyalty_language"] = language if language in ("en", "es") else "en"
    region = str(values.get(Field.REGION) or "").strip().upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        problems[Field.REGION] = _("Not a country code I know: two letters, like MX or ES.")
    else:
        chosen["loyalty_default_region"] = region
    factor = str(values.get(Field.ALERT_FACTOR) or "3").strip()
    try:
        chosen["loyalty_alert_factor"] = float(factor)
        if not 1 <= float(factor) <= MOST_FACTOR:
            raise ValueError(factor)
    except ValueError:
        chosen.pop("loyalty_alert_factor", None)
        problems[Field.ALERT_FACTOR] = _("A number from 1 to {most}, like 3.").format(
            most=number(int(MOST_FACTOR))
        )
    for field in (Field.CLERK_MAX, Field.CLERK_DAILY, Field.ALERT_DAILY, Field.ALERT_HOURLY):
        text = str(values.get(field) or "0").strip()
        if not text.isdigit() or int(text) > MOST_POINTS:
            problems[field] = _("A whole number from 0 to {most}.").format(most=number(MOST_POINTS))
        else:
            chosen[EDITABLE[field]] = int(text)
    _read_earning_rule(values, chosen, problems)
    return chosen, problems


def _read_earning_rule(
    values: dict[str, Any], chosen: dict[str, Any], problems: dict[str, str]
) -> None:
    """How sales earn points; money kept as text (exact, and JSON has no Decimal)."""
    points = str(values.get(Field.EARN_POINTS) or "1").strip()
    if not points.isdigit() or not 1 <= int(points) <= MOST_POINTS:
        problems[Field.EARN_POINTS] = _("A whole number from 1 to {most}.").format(
            most=number(MOST_POINTS)
        )
    else:
        chosen["loyalty_earn_points"] = int(points)
    for field, optional in ((Field.EARN_PER, True), (Field.EARN_MINIMUM, False)):
        text = str(values.get(field) or "").strip()
        if not text and optional:
            chosen[EDITABLE[field]] = None
            continue
        try:
            amount = Decimal(text or "0")
            if not amount.is_finite() or amount < 0 or amount >= MOST_MONEY:
                raise ArithmeticError(text)
            if field is Field.EARN_PER and amount == 0:
                raise ArithmeticError(text)
            chosen[EDITABLE[field]] = str(amount)
        except ArithmeticError:
            problems[field] = _("An amount of money like 10 or 12.50.")
    rounding = values.get(Field.EARN_ROUNDING)
    chosen["loyalty_earn_rounding"] = rounding if rounding in ("down", "nearest", "up") else "down"
    currency = str(values.get(Field.CURRENCY) or "MXN").strip().upper()
    if currency not in CURRENCIES:
        problems[Field.CURRENCY] = _("Not a currency I know: three letters, like MXN or USD.")
    else:
        chosen["loyalty_currency"] = currency


def try_program(
    settings: Settings, app_key: str, program_id: int, http: httpx.Client
) -> str | None:
    """One list call with these credentials: None if Smart Passes accepts them, else why
    not (a msgid: shown with _())."""
    hide(app_key)
    loyalty = LoyaltyClient(
        app_key=app_key, program_id=program_id, base_url=settings.smartpasses_base_url, http=http
    )
    try:
        loyalty.list_offers()
    except AuthenticationFailed:
        return N_("Smart Passes did not accept this App Key. Copy it again from the dashboard.")
    except NotFound:
        return N_("This App Key has no program with that ID. Check the Program ID.")
    except LoyaltyError:
        return N_("Smart Passes did not answer just now, so nothing was saved. Try again.")
    return None


def their_time_zone(client: WebClient, user_id: str) -> str | None:
    """The time zone in `user_id`'s Slack profile (users.info's `tz`), if this machine
    knows it; None if Slack does not say (logged) or names one it does not."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SLACK_FAILED as exc:
        log.info("could not read %s's time zone: %s", user_id, why(exc))
        return None
    zone = str(user.get("tz") or "")
    return zone if known_zone(zone) is not None else None
