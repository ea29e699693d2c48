"""The App Home tab."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.policy import Act
from bot.domain.records import Approval
from bot.i18n import N_, _, ngettext, number
from bot.slack.blocks import approval_in_home
from bot.slack.blocks.common import points
from bot.slack.ids import ActionId

# Our words written inside f-strings (where the catalog extractor cannot see them).
_IN_FSTRINGS = (
    N_("Customers"),
    N_("Points outstanding"),
    N_("Points, 24 h"),
    N_("Redeemed today"),
)


@dataclass(frozen=True)
class HomeFigures:
    """Today's figures on a manager's Home tab."""

    customers: int
    points_outstanding: int
    added_24h: int
    deducted_24h: int
    rewards_today: int
    redeemed_today: int


def home(
    allows: Callable[[Act], bool],
    is_manager: bool,
    figures: HomeFigures | None = None,
    pending: Sequence[Approval] = (),
    extra: Sequence[ButtonElement] = (),
) -> dict[str, Any]:
    """The App Home tab, for the counter: what this person may do, as buttons first
    (`extra` last)."""
    buttons = [
        ButtonElement(text=_("Find customer"), action_id=ActionId.HOME_FIND, style="primary")
    ]
    if allows(Act.ADD_POINTS):
        label = _("Change points") if allows(Act.CHANGE_POINTS) else _("Add points")
        buttons.append(ButtonElement(text=label, action_id=ActionId.HOME_ADD_POINTS))
    if allows(Act.REDEEM):
        buttons.append(ButtonElement(text=_("Redeem"), action_id=ActionId.HOME_REDEEM))
    if allows(Act.CREATE_CUSTOMER):  # a clerk signs customers up at the counter too
        buttons.append(ButtonElement(text=_("New customer"), action_id=ActionId.HOME_NEW_CUSTOMER))
    if allows(Act.DRAFT_OFFER):  # a clerk drafts one and asks for it to be published
        buttons.append(ButtonElement(text=_("New offer"), action_id=ActionId.HOME_NEW_OFFER))
    buttons += extra
    role = (
        _("You are a loyalty *manager*: you can change points, delete, cancel and approve.")
        if is_manager
        else _(
            "You can find, create and edit customers, and draft offers and ask for them to "
            "be published."
        )
        + (" " + _("You can add points and redeem rewards.") if allows(Act.ADD_POINTS) else "")
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_("*Loyalty*") + " · " + role)),
        ActionsBlock(block_id="loyalty_home_actions", elements=buttons),
    ]
    if figures is not None:
        f = figures
        blocks += [
            DividerBlock(),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*{_('Customers')}*\n{number(f.customers)}"),
                    MarkdownTextObject(
                        text=f"*{_('Points outstanding')}*\n{number(f.points_outstanding)}"
                    ),
                    MarkdownTextObject(
                        text=f"*{_('Points, 24 h')}*\n+{number(f.added_24h)} / −{number(f.deducted_24h)}"
                    ),
                    MarkdownTextObject(
                        text=f"*{_('Redeemed today')}*\n"
                        + ngettext("{rewards} reward", "{rewards} rewards", f.rewards_today).format(
                            rewards=number(f.rewards_today)
                        )
                        + ", "
                        + points(f.redeemed_today)
                    ),
                ]
            ),
        ]
    if is_manager and pending:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*"
                    + _("Waiting for publication approval ({count})").format(count=len(pending))
                    + "*"
                )
            )
        )
        for approval in pending[:10]:
            blocks += approval_in_home(approval)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_("Anywhere in Slack: `/loyalty help` lists what I can do.")
                )
            ]
        )
    )
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()
