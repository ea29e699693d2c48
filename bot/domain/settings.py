"""Every setting the bot reads, from the environment and a `.env` file.

Built by `load_settings()` in `main()`/`create_app()`, never at import time.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.numbers import list_currencies
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.earning import EarningRule, Rounding
from bot.domain.errors import ConfigError
from bot.domain.text_keys import fold

_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")
CURRENCIES = frozenset(list_currencies())
DEFAULT_SMARTPASSES_BASE_URL = "https://pass.smartpasses.io/api/v1/loyalty/"


# What a workspace may choose for itself in the Settings form (any-workspace mode).
WORKSPACE_SETTINGS = frozenset(
    {
        "loyalty_managers",
        "loyalty_approvals_channel",
        "loyalty_summary_channel",
        "loyalty_audit_channel",
        "loyalty_summary_time",
        "loyalty_timezone",
        "loyalty_language",
        "loyalty_clerk_max_points",
        "loyalty_clerk_daily_points",
        "loyalty_default_region",
        "loyalty_alert_factor",
        "loyalty_alert_daily_floor",
        "loyalty_alert_customer_hourly",
        "loyalty_earn_points",
        "loyalty_earn_per_amount",
        "loyalty_earn_rounding",
        "loyalty_earn_minimum",
        "loyalty_currency",
    }
)


_CONTINENTS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian"}
    | {"Pacific"}
)  # the first part of a place's zone name (not Etc/, US/ or other old names)


@functools.cache
def _zones_by_city() -> dict[str, list[str]]:
    """The IANA zones of places (`America/Mexico_City`), by their city as one types it
    (`mexico city`: folded, underscores as spaces)."""
    cities: dict[str, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if name.split("/", 1)[0] in _CONTINENTS:
            city = fold(name.rsplit("/", 1)[-1].replace("_", " "))
            cities.setdefault(city, []).append(name)
    return cities


def zone_named(typed: str) -> str | None:
    """The IANA time zone a person means: its name, or its city alone (`Madrid`,
    `mexico city`, or the start of one city's name: `Mexico`); None if it names none, or
    several (`Santa`)."""
    typed = typed.strip()
    if typed.upper() == "UTC":
        return "UTC"
    if "/" in typed:
        return typed if known_zone(typed) is not None else None
    city = fold(typed.replace("_", " "))
    cities = _zones_by_city()
    if city in cities:  # a city's zones are one zone under older names too
        return cities[city][0]
    starting = [c for c in cities if city and c.startswith(city)]
    return cities[starting[0]][0] if len(starting) == 1 else None


def known_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone `name` names, or None if it names none this machine knows: a
    region's folder (`America`, `Mexico`: ZoneInfo reads it as a file and fails with
    an OSError) or a malformed name as well as an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = Field(
        None, description="the bot token from your Slack app's OAuth page (starts with xoxb-)"
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="the Signing Secret from your Slack app's Basic Information page"
    )
    slack_app_token: SecretStr | None = Field(
        None, description="an app-level token with connections:write (starts with xapp-)"
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="the Slack Web API base URL, ending in /api/"
    )
    slack_client_id: str | None = Field(
        None, description="the Client ID from your Slack app's Basic Information page"
    )
    slack_client_secret: SecretStr | None = Field(
        None, description="the Client Secret from your Slack app's Basic Information page"
    )
    slack_redirect_uri: str | None = Field(
        None,
        description="the public address of /slack/oauth_redirect, as in your Slack app's "
        "OAuth & Permissions page, e.g. https://loyalty.example.com/slack/oauth_redirect",
    )
    slack_authorize_url: str = Field(
        "https://slack.com/oauth/v2/authorize",
        description="where Add to Slack sends people (Slack's authorize page)",
    )
    smartpasses_app_key: SecretStr | None = Field(
        None, description="your program's App Key from the Smart Passes dashboard"
    )
    smartpasses_program_id: int | None = Field(
        None, description="your loyalty program's numeric id, e.g. 4886905521176576", gt=0
    )
    loyalty_encryption_key: SecretStr | None = Field(
        None,
        description="one or more Fernet keys, comma-separated, newest first (make one with "
        "`loyalty-bot new-key`); each workspace's App Key is stored encrypted with them",
    )
    loyalty_audit_retention_days: int = Field(
        90, ge=1, description="days an uninstalled workspace's audit log is kept, e.g. 90"
    )
    loyalty_index_budget_mb: int = Field(
        256, ge=1, description="megabytes all workspaces' customer indexes may use, e.g. 256"
    )
    smartpasses_base_url: str = Field(
        DEFAULT_SMARTPASSES_BASE_URL, description="the Loyalty API base URL"
    )
    smartpasses_timeout: float = Field(
        10.0, gt=0, description="seconds to wait for each Loyalty API request, e.g. 10"
    )
    loyalty_managers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated Slack user ids (not names) with the manager role, e.g. "
        "U012AB34,U056CD78 (in Slack: a person's profile → ⋮ → Copy member ID)",
    )
    loyalty_manager_group: str | None = Field(
        None,
        description="the id of a Slack user group whose members are managers, e.g. S0123ABCD",
    )
    loyalty_approvals_channel: str | None = Field(
        None,
        description="the id of the channel for publication requests, e.g. C0123ABCD (in "
        "Slack: the channel's name → About → Channel ID), not its #name",
    )
    loyalty_summary_channel: str | None = Field(
        None,
        description="the id of the channel for the daily summary, e.g. C0123ABCD (in Slack: "
        "the channel's name → About → Channel ID), not its #name",
    )
    loyalty_audit_channel: str | None = Field(
        None,
        description="the id of a channel where every change is announced, e.g. C0123ABCD "
        "(in Slack: the channel's name → About → Channel ID), not its #name",
    )
    loyalty_summary_time: dt.time = Field(
        dt.time(9, 0), description="the local time of the daily summary as HH:MM, e.g. 09:00"
    )
    loyalty_timezone: str = Field(
        "UTC", description="an IANA time zone name, e.g. America/Mexico_City"
    )
    loyalty_max_points: int = Field(
        1000, gt=0, description="the largest single points change, a whole number, e.g. 1000"
    )
    loyalty_clerk_max_points: int = Field(
        0,
        ge=0,
        description="the most points someone who is not a manager may add in one change, "
        "e.g. 20 (0: only managers add points)",
    )
    loyalty_clerk_daily_points: int = Field(
        0,
        ge=0,
        description="the most points someone who is not a manager may add in total per day, "
        "e.g. 200 (0: no daily total)",
    )
    loyalty_alert_factor: float = Field(
        3.0,
        ge=1,
        description="managers are told when someone gives more points in a day than this "
        "many times their usual (the 95th percentile of their last 28 days), e.g. 3",
    )
    loyalty_alert_daily_floor: int = Field(
        200,
        ge=0,
        description="and more than this many points in that day, e.g. 200 (0: no such alerts)",
    )
    loyalty_alert_customer_hourly: int = Field(
        500,
        ge=0,
        description="managers are told when one customer gains more than this many points "
        "within an hour, e.g. 500 (0: no such alerts)",
    )
    loyalty_earn_points: int = Field(
        1, gt=0, description="the points a sale earns for each LOYALTY_EARN_PER_AMOUNT, e.g. 1"
    )
    loyalty_earn_per_amount: Decimal | None = Field(
        None,
        gt=0,
        description="the money that earns those points, e.g. 10 for 1 point per 10 MXN "
        "(not set: `/loyalty sale` is off until a manager sets the earning rule)",
    )
    loyalty_earn_rounding: Rounding = Field(
        Rounding.DOWN, description="down, nearest or up: how a sale's points are rounded"
    )
    loyalty_earn_minimum: Decimal = Field(
        Decimal(0), ge=0, description="the smallest sale that earns points, e.g. 50 (0: any)"
    )
    loyalty_currency: str = Field(
        "MXN", description="the three-letter code of the shop's currency, e.g. MXN"
    )
    loyalty_default_region: str = Field(
        "",
        description="the two-letter country code for phone numbers typed without +, e.g. MX",
    )
    loyalty_lookup_ttl: float = Field(
        60.0, ge=0, description="seconds a fetched customer list serves lookups, e.g. 60"
    )
    loyalty_undo_minutes: int = Field(
        15, ge=0, description="how many minutes a points change can be undone, e.g. 15"
    )
    loyalty_allow_self_approval: bool = Field(
        False, description="true or false: may a manager approve their own publication request"
    )
    loyalty_language: Literal["en", "es"] = Field(
        "en",
        description="en or es: the language of channel posts (approvals, audit, summary), "
        "and for people whose Slack language is unknown",
    )
    loyalty_log_format: Literal["text", "json"] = Field(
        "text", description="text or json (one JSON object per log line)"
    )
    database_url: str = Field("sqlite:///loyalty-bot.db", description="a SQLAlchemy database URL")

    @field_validator("loyalty_managers", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("loyalty_managers")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _USER_ID.fullmatch(item):
                raise ValueError(f"{item!r} is not a Slack user id")
        return value

    @field_validator(
        "loyalty_approvals_channel", "loyalty_summary_channel", "loyalty_audit_channel"
    )
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a channel id")
        return value.strip() if value else None

    @field_validator("loyalty_manager_group")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"S[A-Z0-9]+", value.strip()):
            raise ValueError(f"{value!r} is not a user group id")
        return value.strip() if value else None

    @field_validator("loyalty_summary_time", mode="before")
    @classmethod
    def _parse_hhmm(cls, value: object) -> object:
        if isinstance(value, str):
            return dt.datetime.strptime(value.strip(), "%H:%M").time()
        return value

    @field_validator("loyalty_default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        value = value.strip().upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}")
        return value

    @field_validator("loyalty_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @field_validator("loyalty_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if known_zone(value) is None:
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.loyalty_timezone)

    @property
    def earning_rule(self) -> EarningRule | None:
        """How sales earn points, once a manager has set the money that earns them."""
        if self.loyalty_earn_per_amount is None:
            return None
        return EarningRule(
            self.loyalty_earn_points,
            Decimal(self.loyalty_earn_per_amount),
            self.loyalty_currency,
            Rounding(self.loyalty_earn_rounding),
            Decimal(self.loyalty_earn_minimum),
        )

    @property
    def distributed(self) -> bool:
        """OAuth mode: installed in any number of workspaces, each connecting its own
        program (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, SLACK_BOT_TOKEN not)."""
        return bool(
            self.slack_client_id and self.slack_client_secret and self.slack_bot_token is None
        )

    def program(self) -> tuple[SecretStr, int]:
        """The single workspace's App Key and program id; ConfigError naming what is missing."""
        if self.smartpasses_app_key is None:
            raise ConfigError(_missing("smartpasses_app_key"))
        if self.smartpasses_program_id is None:
            raise ConfigError(_missing("smartpasses_program_id"))
        return self.smartpasses_app_key, self.smartpasses_program_id

    def for_workspace(self, chosen: Mapping[str, Any], program_id: int | None) -> Settings:
        """These settings (the environment's: the defaults) with a workspace's own choices
        (those of WORKSPACE_SETTINGS, from its Settings form) and program on top."""
        values: dict[str, Any] = {
            name: value for name, value in chosen.items() if name in WORKSPACE_SETTINGS
        }
        if isinstance(values.get("loyalty_summary_time"), str):
            values["loyalty_summary_time"] = dt.time.fromisoformat(values["loyalty_summary_time"])
        for name in ("loyalty_earn_per_amount", "loyalty_earn_minimum"):  # JSON keeps text
            if isinstance(values.get(name), str):
                values[name] = Decimal(values[name])
        values.update(smartpasses_program_id=program_id)
        return self.model_copy(update=values)


def _hint(field: str) -> str:
    info = Settings.model_fields.get(field)
    return info.description if info and info.description else "a valid value"


def _missing(field: str) -> str:
    return f"{field.upper()} is not set: put {_hint(field)} there (environment or .env file)."


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    if error["type"] == "missing":
        return _missing(field)
    return f"{field.upper()} is not valid: put {_hint(field)} there."


def load_settings(**overrides: object) -> Settings:
    """Build the settings, or raise ConfigError with one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    if not settings.distributed:
        settings.program()  # one workspace, one program: both must be set
    elif settings.loyalty_encryption_key is None:
        raise ConfigError(
            "LOYALTY_ENCRYPTION_KEY is not set: installed in any workspace, the bot keeps "
            "each workspace's App Key encrypted; make a key with `loyalty-bot new-key` and put "
            "it there."
        )
    return settings
