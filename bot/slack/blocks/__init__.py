"""Every Block Kit message the bot sends, built with slack_sdk.models.blocks.

Customer-supplied text (names, emails, reasons) always goes through `escape()` so a
customer called `<!channel>` pings nobody: in the blocks and in the message's `text`.
Messages stay within Slack's limits whatever the text: at most 50 blocks, and every text
is cut to its limit after escaping (`fit`), never through an entity or a mention.

One module per surface; this package re-exports them all (`blocks.customer_card`)."""

from bot.slack.blocks.alerts import unusual_points
from bot.slack.blocks.approvals import (
    approval_in_home,
    approval_outcome_dm,
    approval_outcome_for_requester,
    approval_request,
    approvals_list,
    publication_requested,
    rejection_sent,
)
from bot.slack.blocks.audit import (
    change_announcement,
    change_flagged,
    change_settled,
    describe,
    field_changes_text,
    history,
    outside_flagged,
)
from bot.slack.blocks.cards import (
    OFFERS_PER_PAGE,
    customer_card,
    customer_line,
    offer_card,
    offer_line,
    status_of,
)
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    MAX_FIELD,
    MAX_PICKER,
    MAX_SECTION,
    MAX_TEXT,
    Message,
    notice,
    plain,
    points,
    saved,
    slack_date,
)
from bot.slack.blocks.confirmations import confirmation, confirmed, consequences
from bot.slack.blocks.help import help_detail, help_message
from bot.slack.blocks.lists import customer_list, customer_picker, offer_list, offer_picker
from bot.slack.blocks.replies import command_choice, points_changed, redeemed, undone
from bot.slack.blocks.sales import (
    no_earning_rule,
    promotion_changed,
    promotion_list,
    promotion_said,
    promotion_terms,
    sale_recorded,
)
from bot.slack.blocks.summary import arrow, summary_message

__all__ = [
    "MAX_BLOCKS",
    "MAX_FIELD",
    "MAX_PICKER",
    "MAX_SECTION",
    "MAX_TEXT",
    "OFFERS_PER_PAGE",
    "Message",
    "approval_in_home",
    "approval_outcome_dm",
    "approval_outcome_for_requester",
    "approval_request",
    "approvals_list",
    "arrow",
    "change_announcement",
    "change_flagged",
    "change_settled",
    "command_choice",
    "confirmation",
    "confirmed",
    "consequences",
    "customer_card",
    "customer_line",
    "customer_list",
    "customer_picker",
    "describe",
    "field_changes_text",
    "help_detail",
    "help_message",
    "history",
    "no_earning_rule",
    "notice",
    "offer_card",
    "offer_line",
    "offer_list",
    "offer_picker",
    "outside_flagged",
    "plain",
    "points",
    "points_changed",
    "promotion_changed",
    "promotion_list",
    "promotion_said",
    "promotion_terms",
    "publication_requested",
    "redeemed",
    "rejection_sent",
    "sale_recorded",
    "saved",
    "slack_date",
    "status_of",
    "summary_message",
    "undone",
    "unusual_points",
]
