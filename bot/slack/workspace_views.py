"""What a workspace's people see about the workspace itself, when the bot is installed in
any workspace (OAuth mode): the Home tab before it is connected, the Connect Smart Passes
form, and the Settings form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core.validation import Field
from bot.i18n import _
from bot.slack.ids import ActionId, Form
from bot.slack.text import escape


@dataclass(frozen=True)
class Connection:
    """What the Settings form shows about the connected program (never the key)."""

    program_id: int
    key_last4: str


@dataclass(frozen=True)
class WorkspaceChoices:
    managers: Sequence[str]
    approvals_channel: str | None
    summary_channel: str | None
    audit_channel: str | None
    summary_time: dt.time
    timezone: str
    language: str
    clerk_max_points: int
    clerk_daily_points: int
    region: str = ""
    alert_factor: float = 3.0
    alert_daily_floor: int = 200
    alert_customer_hourly: int = 500
    earn_points: int = 1
    earn_per_amount: Decimal | None = None  # None: sales do not earn points yet
    earn_minimum: Decimal = Decimal(0)
    earn_rounding: str = "down"
    currency: str = "MXN"


def who_connects(installer: str) -> str:
    if installer:
        return _("<@{installer}> (who installed it) or a workspace admin").format(
            installer=escape(installer)
        )
    return _("a workspace admin")


def not_connected_text(installer: str) -> str:
    """Said to anyone who asks for something before the workspace is connected."""
    return _(
        "This workspace is not connected to Smart Passes yet, so I cannot do that. "
        "{who} can connect it from my Home tab."
    ).format(who=who_connects(installer))


def not_connected_home(can_connect: bool, installer: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="*"
                + _("Loyalty")
                + "*\n"
                + _("Welcome! Connect your Smart Passes loyalty program to start.")
            )
        )
    ]
    if can_connect:
        blocks += [
            SectionBlock(
                text=MarkdownTextObject(
                    text=_(
                        "You need your program's *App Key* and *Program ID*, from the Smart "
                        "Passes dashboard. The key is stored encrypted and never shown again."
                    )
                )
            ),
            ActionsBlock(
                block_id="loyalty_home_connect",
                elements=[
                    ButtonElement(
                        text=_("Connect Smart Passes"),
                        action_id=ActionId.HOME_CONNECT,
                        style="primary",
                    )
                ],
            ),
        ]
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=not_connected_text(installer))))
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()


def settings_button() -> ButtonElement:
    return ButtonElement(text=_("Settings"), action_id=ActionId.HOME_SETTINGS)


def reconnect_button() -> ButtonElement:
    """For the installer and admins of a connected workspace: a new App Key or program."""
    return ButtonElement(text=_("Reconnect Smart Passes"), action_id=ActionId.HOME_CONNECT)


def _modal(title: str, form: Form, blocks: Sequence[Block], submit: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=form,
        title=title[:24],
        submit=submit,
        close=_("Cancel"),
        blocks=list(blocks),
    )
    view.validate_json()
    return view.to_dict()


def connect_form(program_id: str = "", problem: str = "") -> dict[str, Any]:
    """`problem`: why the key and program just sent were refused (shown above the form)."""
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="⚠️ " + escape(problem))))
    blocks += [
        SectionBlock(
            text=MarkdownTextObject(
                text=_(
                    "In the Smart Passes dashboard, copy your loyalty program's App Key and "
                    "its Program ID. I check them with Smart Passes before saving."
                )
            )
        ),
        InputBlock(
            block_id=Field.APP_KEY,
            label=_("App Key"),
            element=PlainTextInputElement(action_id=ActionId.INPUT, max_length=200),
            hint=_("Stored encrypted; only its last 4 characters are shown again."),
        ),
        InputBlock(
            block_id=Field.PROGRAM_ID,
            label=_("Program ID"),
            element=PlainTextInputElement(
                action_id=ActionId.INPUT,
                initial_value=program_id or None,
                max_length=20,
                placeholder=_("e.g. 4886905521176576"),
            ),
        ),
    ]
    return _modal(_("Connect Smart Passes"), Form.CONNECT, blocks, _("Connect"))


LANGUAGES = (("en", "English"), ("es", "Español"))


def settings_form(choices: WorkspaceChoices, connection: Connection | None) -> dict[str, Any]:
    c = choices
    blocks: list[Block] = []
    if connection is not None:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=_(
                        "Connected to program {program} with the App Key ending in {last4}."
                    ).format(
                        program=f"`{connection.program_id}`",
                        last4=f"`{escape(connection.key_last4)}`",
                    )
                )
            )
        )

    def channel(field: Field, label: str, current: str | None, hint: str) -> InputBlock:
        return InputBlock(
            block_id=field,
            label=label,
            optional=True,
            hint=hint,
            element=ConversationSelectElement(
                action_id=ActionId.INPUT, initial_conversation=current or None
            ),
        )

    def number(
        field: Field, label: str, value: float, hint: str, *, decimal: bool = False
    ) -> InputBlock:
        return InputBlock(
            block_id=field,
            label=label,
            hint=hint,
            element=NumberInputElement(
                action_id=ActionId.INPUT,
                is_decimal_allowed=decimal,
                min_value=1 if decimal else 0,
                initial_value=value,
            ),
        )

    languages = [Option(value=code, text=name) for code, name in LANGUAGES]
    blocks += [
        InputBlock(
            block_id=Field.MANAGERS,
            label=_("Managers"),
            optional=True,
            hint=_("They change and set points, delete, cancel and approve offers."),
            element=UserMultiSelectElement(
                action_id=ActionId.INPUT, initial_users=list(c.managers) or None
            ),
        ),
        channel(
            Field.APPROVALS_CHANNEL,
            _("Approvals channel"),
            c.approvals_channel,
            _("Where offers wait for a manager's approval."),
        ),
        channel(
            Field.SUMMARY_CHANNEL,
            _("Summary channel"),
            c.summary_channel,
            _("Where the daily summary is posted."),
        ),
        channel(
            Field.AUDIT_CHANNEL,
            _("Audit channel"),
            c.audit_channel,
            _("Where every change is announced (optional)."),
        ),
        InputBlock(
            block_id=Field.SUMMARY_TIME,
            label=_("Summary time"),
            element=TimePickerElement(
                action_id=ActionId.INPUT, initial_time=c.summary_time.strftime("%H:%M")
            ),
        ),
        InputBlock(
            block_id=Field.TIMEZONE,
            label=_("Time zone"),
            hint=_("As in America/Mexico_City or Europe/Madrid."),
            element=PlainTextInputElement(
                action_id=ActionId.INPUT, initial_value=c.timezone, max_length=64
            ),
        ),
        InputBlock(
            block_id=Field.REGION,
            label=_("Country of the shop's phone numbers"),
            hint=_(
                "Two letters, as in MX or ES: numbers typed without + are read as this "
                "country's. Empty: only numbers with + can be read."
            ),
            optional=True,
            element=PlainTextInputElement(
                action_id=ActionId.INPUT, initial_value=c.region or None, max_length=2
            ),
        ),
        InputBlock(
            block_id=Field.LANGUAGE,
            label=_("Language of channel posts"),
            element=StaticSelectElement(
                action_id=ActionId.INPUT,
                options=languages,
                initial_option=next((o for o in languages if o.value == c.language), None),
            ),
        ),
        number(
            Field.CLERK_MAX,
            _("Most points a clerk adds at once"),
            c.clerk_max_points,
            _("0: only managers add points."),
        ),
        number(
            Field.CLERK_DAILY,
            _("Most points a clerk adds per day"),
            c.clerk_daily_points,
            _("0: no daily total."),
        ),
        number(
            Field.ALERT_FACTOR,
            _("Alert when someone's day is this many times their usual"),
            c.alert_factor,
            _("Their usual: the 95th percentile of their days over the last 28 days."),
            decimal=True,
        ),
        number(
            Field.ALERT_DAILY,
            _("... and over this many points"),
            c.alert_daily_floor,
            _("0: no alerts about a person's day."),
        ),
        number(
            Field.ALERT_HOURLY,
            _("Alert when one customer gains more points than this in an hour"),
            c.alert_customer_hourly,
            _("0: no alerts about a customer's hour."),
        ),
    ]
    blocks += _earning_rule_fields(c)
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text=_("Changes apply to new requests at once."))]
        )
    )
    return _modal(_("Settings"), Form.SETTINGS, blocks, _("Save"))


def _earning_rule_fields(c: WorkspaceChoices) -> list[Block]:
    """How sales earn points (`/loyalty sale`): points per amount, a minimum, rounding."""
    roundings = [
        Option(value="down", text=_("Down: at 1 point per 10, 249 earns 24")),
        Option(value="nearest", text=_("To the nearest: 245 earns 25")),
        Option(value="up", text=_("Up: 241 earns 25")),
    ]
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=_("*Points from sales* (`/loyalty sale`): for example 1 point per 10 MXN.")
            )
        ),
        InputBlock(
            block_id=Field.EARN_POINTS,
            label=_("Points a sale earns"),
            element=NumberInputElement(
                action_id=ActionId.INPUT,
                is_decimal_allowed=False,
                min_value=1,
                initial_value=c.earn_points,
            ),
        ),
        InputBlock(
            block_id=Field.EARN_PER,
            label=_("... for every (amount spent)"),
            hint=_("Empty: sales do not earn points."),
            optional=True,
            element=NumberInputElement(
                action_id=ActionId.INPUT,
                is_decimal_allowed=True,
                min_value=0.01,
                initial_value=str(c.earn_per_amount) if c.earn_per_amount else None,
            ),
        ),
        InputBlock(
            block_id=Field.EARN_MINIMUM,
            label=_("Smallest sale that earns points"),
            hint=_("0: any sale."),
            element=NumberInputElement(
                action_id=ActionId.INPUT,
                is_decimal_allowed=True,
                min_value=0,
                initial_value=str(c.earn_minimum),
            ),
        ),
        InputBlock(
            block_id=Field.EARN_ROUNDING,
            label=_("Rounding"),
            element=StaticSelectElement(
                action_id=ActionId.INPUT,
                options=roundings,
                initial_option=next((o for o in roundings if o.value == c.earn_rounding), None),
            ),
        ),
        InputBlock(
            block_id=Field.CURRENCY,
            label=_("Currency"),
            hint=_("Three letters, as in MXN, USD or EUR."),
            element=PlainTextInputElement(
                action_id=ActionId.INPUT, initial_value=c.currency, max_length=3
            ),
        ),
    ]


def choices_of(state: dict[str, Any]) -> dict[str, Any]:
    """The Settings form's `view.state.values` as {field: value} (users as a list)."""
    found: dict[str, Any] = {}
    for block_id, actions in (state.get("values") or {}).items():
        element: dict[str, Any] = actions.get(ActionId.INPUT) or {}
        for key in ("selected_users", "selected_conversation", "selected_time", "value"):
            if key in element:
                found[block_id] = element[key]
                break
        if "selected_option" in element:
            found[block_id] = (element["selected_option"] or {}).get("value")
    return found
