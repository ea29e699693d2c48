"""The console's demo shop: its people, channels and the words the console itself says."""

from __future__ import annotations

from typing import Any

from bot.i18n import N_
from bot.offline.slack_standin import SlackUser

SECRET, TOKEN = "console-signing-secret", "xoxb-console"
MEXICO = "America/Mexico_City"  # the demo shop's staff (their Slack profiles' time zone)
USERS = [
    SlackUser("UMARTA", "marta", "Marta, manager", "marta@shop.example", tz=MEXICO),
    SlackUser("UGABO", "gabo", "Gabo, manager", "gabo@shop.example", tz=MEXICO),
    SlackUser("UCARL", "carl", "Carl, clerk", "carl@shop.example", tz=MEXICO),
    SlackUser("UJUAN", "juan", "Juan Pérez, a customer", "juan.perez@example.com"),
    SlackUser("UANA", "ana", "Ana García, a customer", "ana.garcia@example.com"),
    SlackUser("UROCIO", "rocio", "Rocío, gerente", "rocio@shop.example", locale="es-MX", tz=MEXICO),
    SlackUser(
        "ULUPITA", "lupita", "Lupita, cajera", "lupita@shop.example", locale="es-MX", tz=MEXICO
    ),
]
STAFF = ("marta", "gabo", "carl", "rocio", "lupita")
# `console --workspaces`: installed through OAuth in the demo shop (marta owns its Slack)
# and in a second shop's workspace (sam owns it; sid is a clerk there).
SECOND_TEAM = "T0SECOND"
SECOND_SHOP_USERS = [
    SlackUser(
        "USAM",
        "sam",
        "Sam, owner of the second shop",
        "sam@second.example",
        team_id=SECOND_TEAM,
        is_owner=True,
        tz="Europe/Madrid",
    ),
    SlackUser(
        "USID",
        "sid",
        "Sid, clerk of the second shop",
        "sid@second.example",
        team_id=SECOND_TEAM,
        tz="Europe/Madrid",
    ),
]
# The demo shop is Mexican (its customers' phones are +52) and lets clerks work the till:
# a real shop chooses (LOYALTY_DEFAULT_REGION, LOYALTY_CLERK_MAX_POINTS / _DAILY_POINTS).
DEMO_SHOP: dict[str, Any] = {
    "loyalty_default_region": "MX",
    "loyalty_timezone": MEXICO,  # its days (summary, clerk's daily points) end at its midnight
    "loyalty_clerk_max_points": 50,
    "loyalty_clerk_daily_points": 200,
    "loyalty_earn_per_amount": 10,  # sales earn 1 point per 10 MXN
}
DEMO_ROLES = N_(
    "In this demo, marta, gabo and rocio are managers: they may do everything. carl and "
    "lupita are clerks: they look customers up, sign new ones up, add up to {most} points "
    "in one change and {daily} a day, redeem rewards and undo their own last add; deducting, "
    "setting a balance and deleting are for managers. Phone numbers without + are read as "
    "Mexican (+52), and the shop's days and hours are Mexico City's."
)
HOME = "home"  # clickables on the Home tab
YES = {"y", "yes", "s", "sí", "si"}  # a confirmation, in either language
MANAGERS = ["UMARTA", "UGABO", "UROCIO"]
FIRST_USER = {"en": "marta", "es": "rocio"}  # who `console --lang` starts as
CHANNELS = {"CSHOP": "shop", "CAPPROVALS": "approvals", "CSUMMARY": "summary", "CAUDIT": "audit"}
HERE = "CSHOP"
HELP = N_(
    "  /loyalty ...          exactly as in Slack (try /loyalty help); @juan, @ana are customers\n"
    "  click <label> [n]     press a button on the latest message that has it (the n-th if "
    "several)\n"
    "  as <user>             act as marta, gabo or rocio (managers) or carl or lupita "
    "(clerks; rocio and lupita read Spanish)\n"
    "  channel <name>        what was posted in #shop, #approvals, #summary or #audit\n"
    "  summary               post the daily summary to #summary, as the clock would\n"
    "  home                  open the bot's Home tab\n"
    "  install               Add to Slack, in your workspace (console --workspaces)\n"
    "  users                 the demo users\n"
    "  signup First Last [email] [+phone]   a customer joins through their wallet pass "
    "(not through the bot)\n"
    "  step <name> input=value ...   run a Workflow Builder step as you (step: the list)\n"
    "  shortcut add_points   the Add loyalty points shortcut; shortcut find <text>: the Find "
    "loyalty customer shortcut on a message saying <text>\n"
    "  quit                  leave\n"
    "In a form, answer each field; Enter keeps the value in [brackets]; !cancel closes it "
    "(so does a /loyalty command, which then runs)."
)
