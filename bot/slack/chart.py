"""The summary's chart: points added, deducted and redeemed per day over the last two
weeks, as a PNG, with alt text that says the same in words.

Drawn by matplotlib in a child process of its own (`python -m bot.slack.chart`, the
figures as JSON on its stdin, the PNG on its stdout): the plotting library, tens of MB,
never loads into a serving process, and the drawing runs beside the summary's work, never
on a request's path. Words and numbers are written here, in the reader's language; the
child only draws."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient

from bot.core.summary import DayPoints
from bot.domain.errors import LoyaltyError
from bot.domain.say import Say
from bot.i18n import N_, _, day, number
from bot.slack.files import share_file

DRAW_SECONDS = 60  # a first import of matplotlib on a cold disk is slow; never a request's
CHILD = (sys.executable, "-m", "bot.slack.chart")  # the drawing process


class ChartUnavailable(LoyaltyError):
    """The chart could not be drawn (the summary is posted without it); `why` for the log."""

    def __init__(self, why: str) -> None:
        super().__init__(
            Say("I could not draw the chart just now; the summary's figures are complete.")
        )
        self.why = why

    def __str__(self) -> str:
        return f"chart unavailable: {self.why}"


# A date pattern (Babel's): each language writes a day its own way ("5 de diciembre").
A_DAY_OF_THE_YEAR = N_("EEEE d MMMM")


def alt_text(chart: Sequence[DayPoints]) -> str:
    added = sum(d.added for d in chart)
    deducted = sum(d.deducted for d in chart)
    redeemed = sum(d.redeemed for d in chart)
    text = _(
        "Chart of the last {days} days: {added} points added, {deducted} deducted and "
        "{redeemed} redeemed."
    ).format(
        days=len(chart), added=number(added), deducted=number(deducted), redeemed=number(redeemed)
    )
    busiest = max(chart, key=lambda d: d.added + d.deducted + d.redeemed, default=None)
    if busiest is not None and busiest.added + busiest.deducted + busiest.redeemed:
        text += " " + _("The busiest day was {day} ({added} added).").format(
            day=day(busiest.day, _(A_DAY_OF_THE_YEAR)), added=number(busiest.added)
        )
    return text


def chart_figures(chart: Sequence[DayPoints]) -> dict[str, Any]:
    """What the child draws: every word already in the reader's language."""
    return {
        "title": _("Points, last {days} days").format(days=len(chart)),
        "days": [day(d.day, "EEE d") for d in chart],
        "series": [
            [_("added"), [d.added for d in chart], "#2a9d8f"],
            [_("deducted"), [d.deducted for d in chart], "#e76f51"],
            [_("redeemed"), [d.redeemed for d in chart], "#264653"],
        ],
    }


def render_png(chart: Sequence[DayPoints]) -> bytes:
    """The chart as a PNG, drawn in a child process; ChartUnavailable if it cannot be."""
    try:
        done = subprocess.run(
            list(CHILD),
            input=json.dumps(chart_figures(chart)).encode(),
            capture_output=True,
            timeout=DRAW_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChartUnavailable(type(exc).__name__) from None
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no image"]
        raise ChartUnavailable(why[0])
    return done.stdout


def share_chart(
    client: WebClient, channel: str, chart: Sequence[DayPoints], *, thread_ts: str | None = None
) -> str:
    """Draw the chart and share it in `channel` (its alt text with it): the file's id.
    ChartUnavailable if it cannot be drawn."""
    png = render_png(chart)
    today = chart[-1].day.isoformat() if chart else ""
    return share_file(
        client,
        channel,
        io.BytesIO(png),
        len(png),
        name=f"{_('points')}-{today}.png",
        title=_("Points, last {days} days").format(days=len(chart)),
        content_type="image/png",
        alt_text=alt_text(chart),
        thread_ts=thread_ts,
    )


def draw(figures: dict[str, Any]) -> bytes:
    """In the child: grouped bars, one group a day."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    days, series = figures["days"], figures["series"]
    figure = Figure(figsize=(9, 3.6), dpi=110)
    axes = figure.subplots()
    width = 0.8 / max(1, len(series))
    for n, (label, values, color) in enumerate(series):
        offsets = [i - 0.4 + width * (n + 0.5) for i in range(len(days))]
        axes.bar(offsets, values, width, label=label, color=color)
    axes.set_xticks(range(len(days)), days, rotation=45, ha="right", fontsize=8)
    axes.set_title(figures["title"], fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False, fontsize=8, ncols=len(series))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


if __name__ == "__main__":
    if hasattr(os, "nice"):  # a drawing waits for the requests being answered beside it
        os.nice(10)
    sys.stdout.buffer.write(draw(json.load(sys.stdin)))
