"""Right on the first try, at the till: a customer who signed up a moment ago (in their
wallet or the dashboard, not through the bot) is found by id, email, phone or name; a phone
is found however it is said; a true miss says what was searched and how a number without
its country code was read."""

from __future__ import annotations

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from handlers.errors import user_message
from tests.core import core_over
from tests.demo import JUAN
from tests.harness import text_of


@pytest.fixture
def till(sandbox, sqlite_url):
    """The core of a Mexican shop (national numbers read as +52), its list loaded."""
    with core_over(sandbox, sqlite_url, region="MX") as core:
        core.service.find_customers("juan")  # the list is loaded now
        yield core


def _sign_up(core, **fields: str) -> int:
    """A customer joins through their wallet pass: Smart Passes has them, the bot's list
    does not."""
    data = {"firstName": "Rosa", "lastName": "Díaz", "email": "", "phone": "", **fields}
    return int(core.sandbox.state.add_customer(DEMO_PROGRAM_ID, data)["id"])


def _found(core, reference: str) -> list[int]:
    return [c.id for c in core.service.find_customers(reference).matches]


def test_a_new_sign_up_is_found_by_id_at_once(till) -> None:
    rosa = _sign_up(till)
    fetches = till.service.index.fetch_count
    assert _found(till, str(rosa)) == [rosa]
    assert _found(till, f"#{rosa}") == [rosa]
    assert till.service.index.fetch_count == fetches  # one GET, not the whole list
    assert _found(till, "rosa") == [rosa]  # and it is in the index from now on


def test_a_new_sign_up_is_found_by_email_or_phone_after_one_fresh_read(till) -> None:
    rosa = _sign_up(till, email="rosa@example.com", phone="+525512340000")
    assert _found(till, "Rosa@Example.com") == [rosa]
    ana = _sign_up(till, firstName="Ana", lastName="Ríos", phone="+525598760000")
    till.service.index._reread_at -= 10  # the last miss was a while ago
    assert _found(till, "55 9876 0000") == [ana]


def test_a_new_sign_up_is_found_by_name_after_one_fresh_read(till) -> None:
    """A name nothing in the list matches is not "no customer" until the list is read
    again: a shop clerk types the name of who just joined at the counter."""
    rosa = _sign_up(till, firstName="Pedro", lastName="Infante")
    fetches = till.service.index.fetch_count
    assert _found(till, '"Pedro Infante"') == [rosa]
    assert till.service.index.fetch_count == fetches + 1
    till.service.index._reread_at -= 10  # the last miss was a while ago
    assert _found(till, "Nadie Nunca") == []  # a true miss: after one more read
    assert till.service.index.fetch_count == fetches + 2


def test_a_name_nobody_has_is_offered_as_the_list_spells_names(till) -> None:
    """`jaun`, `lus hernandes`: after the fresh read finds nobody, the customers the words
    name as the list spells them; never for words that are not near any name."""
    till.service.index._reread_at -= 10
    assert _found(till, "jaun") == []
    near = till.service.near_customers("jaun")
    assert near is not None and [c.id for c in near.matches] == [JUAN, 1871]  # Juan, Juana
    near = till.service.near_customers("lus hernandes")
    assert near is not None and [c.id for c in near.matches] == [1872]
    assert till.service.near_customers("zzzz") is None
    assert till.service.near_customers("juan") is None  # spelled as listed: not a typo
    assert till.service.near_customers("jaun@example.com") is None  # names only


def test_a_promised_answer_is_sent_before_a_shutdown(till) -> None:
    """Told "I will answer here in a moment", a person gets that answer even if the
    process is stopping: the looks past the list are waited for."""
    from bot.domain.errors import StillLooking

    rosa = _sign_up(till, email="rosa.late@example.com")
    till.sandbox.route_latency["list_customers"] = 0.5
    with pytest.raises(StillLooking) as looking:
        till.service.find_customers("rosa.late@example.com", within=0.01)
    till.service.finish_lookups()
    assert looking.value.later.done()
    assert [c.id for c in looking.value.later.result().matches] == [rosa]


def test_misses_share_one_fresh_read_and_wait_for_its_window(till) -> None:
    """At most one read of the list every REREAD_SECONDS: a miss soon after one waits for
    the window (its person is told meanwhile) instead of being told "nobody" from a list
    that may not have a sign-up of a second ago."""
    from bot.core.index.customer_index import REREAD_SECONDS

    index = till.service.index
    paused: list[float] = []
    index._sleep = paused.append
    fetches = index.fetch_count
    assert _found(till, "nobody@example.com") == []
    assert index.fetch_count == fetches + 1 and paused == []
    rosa = _sign_up(till, email="rosa.soon@example.com")  # a moment after that read
    assert _found(till, "rosa.soon@example.com") == [rosa]
    assert index.fetch_count == fetches + 2
    assert len(paused) == 1 and 0 < paused[0] <= REREAD_SECONDS


@pytest.mark.parametrize(
    "said",
    ["9994116533", "999 411 6533", "999-411-6533", "(999) 411-6533", "+52 999 411 6533"],
)
def test_a_phone_is_found_however_it_is_said(till, said: str) -> None:
    assert _found(till, said) == [JUAN]


def test_a_search_finds_a_phone_said_in_groups(till) -> None:
    assert JUAN in [c.id for c in till.service.customers_page("411 6533").customers]
    juana = [c.id for c in till.service.customers_page("55 5000 1111").customers]
    assert juana == [1871]


def test_a_true_miss_says_what_was_searched_and_how_a_number_was_read(till) -> None:
    missed = user_message(till.service.not_found("999 411 0000"))
    assert "No customer matches “999 411 0000” (read as the phone number" in missed
    assert "+52 999 411 0000" in missed


def test_without_a_country_a_national_number_is_said_to_need_one(sandbox, sqlite_url) -> None:
    with core_over(sandbox, sqlite_url) as core:
        missed = user_message(core.service.not_found("9994110000"))
    assert "type it with its country code" in missed and "+52 999 411 6533" in missed


def test_a_new_sign_up_is_found_through_slack_on_the_first_command(bot_with) -> None:
    bot = bot_with(loyalty_default_region="MX")
    bot.command("customer juan")
    bot.reply()  # the list is loaded
    rosa = _sign_up(bot, email="rosa@example.com", phone="+525512340000")
    for reference in (str(rosa), "rosa@example.com", "55 1234 0000"):
        bot.command(f"customer {reference}")
        assert "Rosa Díaz" in text_of(bot.reply()), reference
    bot.command("customer 55 1234 9999")
    assert "(read as the phone number `+52 55 1234 9999`)" in text_of(bot.reply())


def test_a_new_sign_up_is_found_by_a_national_number_typed_as_digits(till) -> None:
    rosa = _sign_up(till, phone="+529991230000")
    assert _found(till, "9991230000") == [rosa]  # not an id: then the fresh list


def test_a_slow_look_past_the_list_is_told_at_once_and_answered_after(bot_with) -> None:
    """Smart Passes takes its time: past a moment, the person is told the bot is reading
    the latest list and nothing was changed, then offered the customer it found; choosing
    carries the command on, once."""
    from tests.harness import button

    bot = bot_with(loyalty_default_region="MX")
    bot.command("customer juan")
    bot.reply()  # the list is loaded
    rosa = _sign_up(bot, email="rosa@example.com")
    bot.sandbox.route_latency["list_customers"] = 1.5  # longer than a person waits
    seen = len(bot.slack.calls_to("response_url"))
    bot.command("points rosa@example.com 10 welcome")
    first = text_of(bot.slack.wait_for("response_url", count=seen + 1)[-1].args)
    assert "is not in my list yet" in first and "nothing was changed" in first
    assert bot.customer_points(rosa) == 0
    found = bot.slack.wait_for("response_url", count=seen + 2, timeout=15)[-1].args
    assert "1 customer matches “rosa@example.com”" in text_of(found)
    assert "Is this the one you meant?" in text_of(found)
    bot.sandbox.route_latency.clear()
    bot.click(button(found, "Choose"))
    done = bot.slack.wait_for("response_url", count=seen + 3, timeout=15)[-1].args
    bot.settle()
    assert "Rosa Díaz*: 0 → *10* points (+10)" in text_of(done)
    assert bot.customer_points(rosa) == 10
