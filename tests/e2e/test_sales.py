"""Points from sales end to end: `/loyalty sale` (and `venta`) through signed requests, the
receipt in the reader's language, promotions created in their form and applied, a clerk
over the allowance, a sale answered 500 after applying, undo, the summary's sales, and the
Record a sale step. The test shop earns 1 point per 10 MXN (tests/harness.py)."""

from __future__ import annotations

from bot.offline.sandbox.app import Fault
from tests.demo import JUAN
from tests.harness import CAJERA, CLERK, GERENTE, MANAGER, button, buttons, text_of

PROMO = {
    "promo_name": "Doble puntos",
    "promo_kind": "multiplier",
    "promo_value": "2",
}


def _adds(bot) -> list:
    return bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")


def _create_promotion(bot, values: dict, user: str) -> dict:
    bot.command("promos new" if user == MANAGER else "promos nueva", user=user)
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_promotion_form"
    return bot.answer(view_id, values, user=user)


def test_a_sale_earns_the_rules_points_and_is_told_like_a_receipt(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.command("sale 1870 250.00 ticket 18")
    reply = bot.reply()
    assert reply["text"] == "Juan Pérez: 250.00 MXN → 25 points · 5 → 30"
    assert "✅ *Juan Pérez*: 250.00 MXN → 25 points · 5 → *30*" in text_of(reply)
    assert "_Note:_ ticket 18" in text_of(reply)
    assert [c.body for c in _adds(bot)] == [{"points": 25}]
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.action, entry.outcome, entry.after) == ("points.sale", "ok", 30)
    assert entry.changes["sale"][1]["amount"] == "250.00"
    (post,) = bot.wait("chat.postMessage")
    assert "recorded a sale of 250.00 MXN for *Juan Pérez*" in text_of(post.args)


def test_the_currency_typed_after_the_amount_is_not_the_note(bot) -> None:
    """`250 pesos`, `300 MXN regalo`: the currency, typed as at a till, is not recorded as
    the sale's note; a note that only mentions money later is kept whole."""
    for typed, note in [
        ("venta 1870 250 pesos", ""),
        ("sale 1870 300 MXN regalo", "regalo"),
        ("sale 1870 100 pesos mexicanos ticket 9", "ticket 9"),
        ("sale 1870 50 gift, 20 pesos off", "gift, 20 pesos off"),
        ("venta juan perez 250mxn", ""),  # joined to the amount: read apart
    ]:
        bot.command(typed)
        reply = text_of(bot.reply())
        assert ("_Note:_" in reply) == bool(note) and "pesos_" not in reply
    notes = [e.reason for e in reversed(bot.store.entries(target_id=JUAN))]
    assert notes == ["", "regalo", "ticket 9", "gift, 20 pesos off", ""]
    assert [c.body for c in _adds(bot)][-1] == {"points": 25}


def test_the_currency_typed_before_the_amount_is_not_the_customer(bot) -> None:
    """`venta 1870 MXN 120`, `sale Juan Pérez $ 130`: the sale is Juan's, not "no customer
    matches “1870 MXN”"."""
    for typed, shown in [
        ("venta 1870 MXN 120", "120.00 MXN → 12 points · 5 → *17*"),
        ('sale "Juan Pérez" $ 130 ticket 4', "130.00 MXN → 13 points · 17 → *30*"),
        ("sale juan.perez@example.com pesos mexicanos 100", "100.00 MXN → 10 points · 30 → *40*"),
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    assert [c.body for c in _adds(bot)] == [{"points": 12}, {"points": 13}, {"points": 10}]
    notes = [e.reason for e in reversed(bot.store.entries(target_id=JUAN))]
    assert notes == ["", "ticket 4", ""]


def test_a_sale_with_no_amount_asks_how_much(bot) -> None:
    """`venta juan perez`: not "“perez” is not an amount" (a surname read as the amount)."""
    for typed in ("sale juan perez", "sale 1870", "venta Juan"):
        reply = text_of(bot.command(typed).json())
        assert reply.startswith("How much was the sale? Usage: `/loyalty sale &lt;customer"), typed
    assert _adds(bot) == []


def test_a_sale_in_another_currency_is_refused_with_the_shops(bot) -> None:
    """`venta 250 USD a juan perez`, `sale 1870 €250`: never 250 MXN, nor a customer
    called "USD a juan perez"; the reader is told the shop's currency, in their language."""
    for typed, said in [
        ("sale 1870 250 USD", "“250 USD” is not"),
        ("venta 250 dólares a juan perez", "“250 dólares” is not"),
        ("sale 1870 €250", "“€250” is not"),
        ("sale juan perez 250usd gift", "“250usd” is not"),
        ("sale 1870 euros 120", "“euros 120” is not"),
    ]:
        reply = text_of(bot.command(typed).json())
        assert reply.startswith("This shop's sales are in MXN, and ") and said in reply, typed
    bot.command("ayuda", user=GERENTE)  # her language is known from her first answer on
    bot.reply()
    reply = text_of(bot.command("venta 250 USD a juan perez", user=GERENTE).json())
    assert reply == (
        "Las ventas de esta tienda son en MXN, y “250 USD” no: escribe el importe en MXN, "
        "como `250.00`."
    )
    assert _adds(bot) == [] and bot.store.entries(target_id=JUAN) == []


def test_a_sale_said_amount_first_is_the_customers(bot) -> None:
    """`venta de 120 a 1870`, `vendí 130 pesos a Juan Pérez`, `sale 100 for 1870`: the
    amount said before whom it was for, as people say it."""
    for typed, shown in [
        ("venta de 120 a 1870", "120.00 MXN → 12 points · 5 → *17*"),
        ("vendí 130 pesos a Juan Pérez", "130.00 MXN → 13 points · 17 → *30*"),
        ("sale 100 for 1870", "100.00 MXN → 10 points · 30 → *40*"),
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    assert [c.body for c in _adds(bot)] == [{"points": 12}, {"points": 13}, {"points": 10}]
    assert [e.reason for e in bot.store.entries(target_id=JUAN)] == ["", "", ""]
    for typed, shown in [  # the verbs a till says a sale with
        ("cobré 100 a 1870", "100.00 MXN → 10 points · 40 → *50*"),
        ("compró 100 Juan Pérez", "100.00 MXN → 10 points · 50 → *60*"),  # no other amount
        ("charged 1870 $100", "100.00 MXN → 10 points · 60 → *70*"),
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    asked = bot.command("Juan Pérez compró 100").json()  # the customer first: asked
    assert text_of(asked).startswith("Did you mean `/loyalty sale` with what you typed")
    bot.click(buttons(asked)[0])
    assert "100.00 MXN → 10 points · 70 → *80*" in text_of(bot.reply())
    assert [e.reason for e in bot.store.entries(target_id=JUAN)][:4] == ["", "", "", ""]


def test_a_promotion_made_in_its_form_doubles_a_sale_in_spanish(bot_with) -> None:
    bot = bot_with(
        loyalty_managers=f"{MANAGER},{GERENTE}",
        loyalty_audit_channel="CAUDIT",
        loyalty_language="es",  # channel posts in Spanish
        loyalty_clerk_max_points="100",
    )
    shown = _create_promotion(bot, PROMO, GERENTE)
    assert "Promoción *Doble puntos* creada." in text_of(shown["view"])
    (post,) = bot.wait("chat.postMessage")
    assert "creó la promoción *Doble puntos*" in text_of(post.args)
    (told,) = bot.wait("chat.postEphemeral")  # the result, also where the manager started
    assert told.args["user"] == GERENTE
    bot.command("venta 1870 250", user=CAJERA)
    reply = bot.reply()
    assert reply["text"] == "Juan Pérez: 250.00 MXN → 25 puntos (+25 Doble puntos) · 5 → 55"
    assert [c.body for c in _adds(bot)] == [{"points": 50}]
    bot.command("sale 1870 100")  # the same promotion, read in English
    assert bot.reply()["text"] == "Juan Pérez: 100.00 MXN → 10 points (+10 Doble puntos) · 55 → 75"
    bot.command("resumen", user=GERENTE)
    summary = text_of(bot.reply())
    assert "Ventas de hoy: 2 ventas, 350.00 MXN, 70 puntos (35 de promociones)" in summary
    (promo,) = bot.store.promotions()
    bot.command(f"promos pausar {promo.id}", user=GERENTE)
    assert "Promoción *Doble puntos* en pausa." in text_of(bot.reply())
    bot.command("promos reanudar doble", user=GERENTE)  # by its name, or a start of it
    assert "Promoción *Doble puntos* reanudada." in text_of(bot.reply())
    bot.command("promos pausar <b>navidad</b>", user=GERENTE)
    assert text_of(bot.reply()) == (
        "⚠️ Ninguna promoción se llama “&lt;b&gt;navidad&lt;/b&gt;”; `/loyalty promociones` "
        "las muestra, con sus botones. No se cambió nada."
    )
    bot.command("promos pausar Doble Puntos", user=GERENTE)
    assert "Promoción *Doble puntos* en pausa." in text_of(bot.reply())
    bot.command("venta 1870 100", user=CAJERA)  # no promotion now
    assert bot.reply()["text"] == "Juan Pérez: 100.00 MXN → 10 puntos · 75 → 85"
    _create_promotion(bot, {**PROMO, "promo_name": "Doble finde"}, GERENTE)
    bot.command("promos terminar doble", user=GERENTE)  # two start so: asked which
    assert text_of(bot.reply()).startswith(
        f"⚠️ Varias promociones coinciden con “doble”: Doble puntos ({promo.id}), Doble finde ("
    )
    assert len(bot.store.promotions()) == 2


def test_promotions_are_made_by_managers_and_refused_to_clerks(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points="50")
    bot.command("promos new", user=CLERK)
    refused = text_of(bot.reply())
    assert "Only loyalty *managers* can create, pause and end promotions" in refused
    assert bot.slack.calls_to("views.open") == []
    bot.command("promos", user=CLERK)
    listed = bot.reply()
    assert "No promotions right now." in text_of(listed) and buttons(listed) == []
    assert "sales earn 1 point per 10 MXN" in text_of(listed)
    refusal = bot.store.entries(user_id=CLERK, outcome="refused")
    assert len(refusal) == 1 and "promotions" in refusal[0].detail
    made = _create_promotion(
        bot,
        {
            **PROMO,
            "promo_name": "Bienvenida",
            "promo_kind": "bonus",
            "promo_value": "50",
            "promo_under_balance": "1",
        },
        MANAGER,
    )
    assert "+50 points per sale" in text_of(made["view"])
    assert "customers with no points yet" in text_of(made["view"])
    bot.command("promos")
    listed = bot.reply()
    assert "*Bienvenida*" in text_of(listed)
    bot.click(button(listed, "Pause"))
    assert "Promotion *Bienvenida* paused." in text_of(bot.reply())
    (promo,) = bot.store.promotions()
    assert promo.paused
    bot.click(button(listed, "End"))
    assert "Promotion *Bienvenida* ended." in text_of(bot.reply())
    assert bot.store.promotions() == []


def test_a_promotion_form_with_mistakes_is_answered_beside_its_fields(bot) -> None:
    shown = _create_promotion(
        bot,
        {
            "promo_name": "",
            "promo_kind": "multiplier",
            "promo_value": "0.5",
            "promo_starts": "16:00",
        },
        MANAGER,
    )
    errors = shown["errors"]
    assert set(errors) == {"promo_name", "promo_value", "promo_ends"}
    assert bot.store.promotions() == []


def test_a_clerks_sale_over_the_allowance_adds_nothing(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points="20")
    bot.command("sale 1870 250", user=CLERK)
    said = text_of(bot.reply())
    assert "This sale earns 25 points. Clerks can add at most 20 points in one change" in said
    assert _adds(bot) == [] and bot.customer_points(JUAN) == 5
    (refused,) = bot.store.entries(target_id=JUAN, outcome="refused")
    assert refused.detail.startswith("This sale earns 25 points."), refused.detail
    bot.command("sale 1870 150", user=CLERK)
    assert "5 → *20*" in text_of(bot.reply())


def test_a_sale_answered_500_after_applying_is_checked_and_told_once(bot) -> None:
    bot.sandbox.inject("add_points", Fault.APPLY_THEN_500)
    bot.command("sale 1870 120")
    reply = bot.reply()
    assert reply["text"] == "Juan Pérez: 120.00 MXN → 12 points · 5 → 17"
    assert len(_adds(bot)) == 1 and bot.customer_points(JUAN) == 17
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.outcome, entry.resolved) == ("ok", "checked")


def test_undoing_a_sale_removes_its_points_and_it_leaves_the_summary(bot) -> None:
    bot.command("sale 1870 300")
    bot.reply()
    bot.command("undo")
    assert "*Juan Pérez* is back to 5 points (was 35)" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 5
    bot.command("summary")
    assert "Sales today" not in text_of(bot.reply())


def test_an_amount_that_reads_two_ways_is_asked(bot) -> None:
    ack = bot.command("sale 1870 1.500")
    asked = ack.json()
    assert "Did you mean `1.50` or `1,500.00`? Nothing was changed yet." in text_of(asked)
    assert _adds(bot) == []
    bot.click(button(asked, "1,500.00"))
    assert bot.reply()["text"] == "Juan Pérez: 1,500.00 MXN → 150 points · 5 → 155"


def test_an_amount_with_a_decimal_comma_is_asked_with_its_one_reading(bot) -> None:
    """`120,50` where "." marks decimals: a group mark is followed by three digits, so it
    can only be 120.50 written the other way round. Asked (one button), never 12,050."""
    asked = bot.command("venta 1870 120,50").json()
    assert "Did you mean `120.50`? Nothing was changed yet." in text_of(asked)
    assert [b["text"]["text"] for b in buttons(asked)] == ["120.50"]
    assert _adds(bot) == []
    bot.click(button(asked, "120.50"))
    assert bot.reply()["text"] == "Juan Pérez: 120.50 MXN → 12 points · 5 → 17"
    assert bot.customer_points(JUAN) == 17


def test_a_sale_before_the_rule_is_set_says_who_sets_it(bot_with) -> None:
    bot = bot_with(loyalty_earn_per_amount=None)
    bot.command("sale 1870 250")
    said = text_of(bot.reply())
    assert "Sales do not earn points yet." in said and "LOYALTY" not in said
    assert _adds(bot) == []


def test_the_record_a_sale_step_completes_with_the_points(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    ended = bot.step(
        "record_sale",
        {
            "customer": "juan.perez@example.com",
            "amount": "99.90",
            "note": "online",
            "acting_user": MANAGER,
            "workflow": "Tienda en línea",
        },
    )
    assert ended == ("completed", {"customer_name": "Juan Pérez", "points": 9, "balance": 14})
    (post,) = bot.wait("chat.postMessage")
    assert "(via workflow *Tienda en línea*)" in text_of(post.args)
    status, why = bot.step(
        "record_sale", {"customer": str(JUAN), "amount": "1.500", "acting_user": MANAGER}
    )
    assert status == "failed" and "can be read two ways" in why
    status, why = bot.step(
        "record_sale", {"customer": str(JUAN), "amount": "120,50", "acting_user": MANAGER}
    )
    assert status == "failed" and "like 120.50." in why and "two ways" not in why
    assert len(_adds(bot)) == 1
    status, outputs = bot.step(
        "record_sale", {"customer": str(JUAN), "amount": "100 MXN", "acting_user": MANAGER}
    )
    assert status == "completed" and outputs["points"] == 10  # the currency named after it
