"""Data the sandbox starts with: the spec's examples (demo), nothing, or N made-up customers."""

from __future__ import annotations

import random

from bot.offline.sandbox.state import PUBLISHED, Program, SandboxState

DEMO_PROGRAM_ID = 4886905521176576
DEMO_APP_KEY = "sandbox-app-key"

_FIRST = [
    "Juan",
    "Ana",
    "María",
    "José",
    "Lucía",
    "Carlos",
    "Sofía",
    "Luis",
    "Valentina",
    "Miguel",
    "Camila",
    "Jorge",
    "Isabel",
    "Andrés",
    "Paula",
    "Diego",
    "Elena",
    "Raúl",
    "Fernanda",
    "Tomás",
    "Ximena",
    "Héctor",
    "Renée",
    "Zoë",
    "Noah",
    "Emma",
    "Olivia",
    "Liam",
    "Chloé",
    "Matías",
    "Inés",
    "Óscar",
    "Ángel",
    "Begoña",
    "Nuria",
    "Iván",
]
_LAST = [
    "Pérez",
    "García",
    "López",
    "Martínez",
    "Rodríguez",
    "Hernández",
    "González",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Ortiz",
    "Gutiérrez",
    "Chávez",
    "Ramos",
    "Ruiz",
    "Álvarez",
    "Castillo",
    "Jiménez",
    "Vargas",
    "Romero",
    "Núñez",
    "Muñoz",
    "Smith",
    "Nguyen",
    "O'Brien",
    "Müller",
    "Silva",
    "Costa",
]


def load_demo(state: SandboxState, program_id: int = DEMO_PROGRAM_ID) -> None:
    """The spec's examples, plus a few more so lists and ambiguity can be tried."""
    add = state.add_customer
    add(program_id, {}, customer_id=1869)
    add(
        program_id,
        {
            "firstName": "Juan",
            "lastName": "Pérez",
            "email": "juan.perez@example.com",
            "phone": "+529994116533",
        },
        customer_id=1870,
        points=5,
    )
    add(
        program_id,
        {
            "firstName": "Ana",
            "lastName": "García",
            "email": "ana.garcia@example.com",
            "phone": "+525551234567",
        },
        customer_id=6629146321223680,
        points=25,
    )
    add(
        program_id,
        {
            "firstName": "Juana",
            "lastName": "Pérez",
            "email": "juana@example.com",
            "phone": "+525550001111",
        },
        customer_id=1871,
        points=12,
    )
    add(
        program_id,
        {
            "firstName": "Luis",
            "lastName": "Hernández",
            "email": "luis.h@example.com",
            "phone": "+525550002222",
        },
        customer_id=1872,
        points=40,
    )
    add(
        program_id,
        {
            "firstName": "Sofía",
            "lastName": "Ramírez",
            "email": "sofia@example.com",
            "phone": "+525550003333",
        },
        customer_id=1873,
        points=0,
    )
    state.add_offer(
        program_id,
        {
            "name": "Café Gratis",
            "description": "Canjea 10 puntos por un café americano.",
            "pointsCost": 10,
            "autoClaim": True,
        },
        offer_id=5001,
        status=PUBLISHED,
    )
    state.add_offer(
        program_id,
        {
            "name": "Pan dulce 2x1",
            "description": "Dos piezas de pan dulce por el precio de una.",
            "pointsCost": 15,
            "autoClaim": False,
        },
        offer_id=5002,
    )


def load_generated(
    state: SandboxState, count: int, program_id: int = DEMO_PROGRAM_ID, seed: int = 7
) -> None:
    """`count` realistic customers with unique emails and phones, for benchmarks."""
    rng = random.Random(seed)
    program = state.program(program_id)
    base_id = 5_000_000_000_000_000
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        anonymous = i % 50 == 49
        cid = base_id + i
        customer = {
            "id": cid,
            "firstName": "" if anonymous else first,
            "lastName": "" if anonymous else last,
            "email": "" if anonymous else f"{first}.{last}.{i}@example.com".lower(),
            "phone": "" if anonymous else f"+52{5500000000 + i}",
            "points": rng.randint(0, 500),
        }
        name = f"{customer['firstName']} {customer['lastName']}".strip()
        customer["humanName"] = name or f"Anónimo #{cid}"
        program.customers[cid] = customer
    state.add_offer(
        program_id,
        {
            "name": "Café Gratis",
            "description": "Un café americano.",
            "pointsCost": 10,
            "autoClaim": True,
        },
        status=PUBLISHED,
    )


# A second shop, for installing in two workspaces offline: its own program and App Key.
SECOND_PROGRAM_ID = 5_100_000_000_000_002
SECOND_APP_KEY = "sandbox-app-key-second-shop"


def add_second_shop(state: SandboxState, customers: int = 5) -> None:
    state.add_program(SECOND_PROGRAM_ID, SECOND_APP_KEY)
    load_generated(state, customers, SECOND_PROGRAM_ID, seed=11)
    state.add_offer(
        SECOND_PROGRAM_ID,
        {
            "name": "Concha de vainilla",
            "description": "Pan dulce.",
            "pointsCost": 8,
            "autoClaim": True,
        },
        status=PUBLISHED,
    )


SHOPS_FROM = 9_000_000  # program ids of the shops `add_shops` makes


def shop(i: int) -> tuple[int, str]:
    """The program id and App Key of the i-th extra shop."""
    return SHOPS_FROM + i, f"shop-key-{i}"


def add_shops(state: SandboxState, count: int, customers: int) -> None:
    """`count` more shops, each with its own program, App Key and generated customers (for
    many workspaces: tests and bench_workspaces)."""
    for i in range(count):
        program, key = shop(i)
        state.add_program(program, key)
        load_generated(state, customers, program, seed=i)


def build_state(
    data: str = "demo", *, app_key: str = DEMO_APP_KEY, program_id: int = DEMO_PROGRAM_ID
) -> SandboxState:
    """`data` is "demo", "empty" or a number of generated customers."""
    state = SandboxState(app_key)
    state.programs[program_id] = Program(program_id)
    if data == "demo":
        load_demo(state, program_id)
    elif data == "empty":
        pass
    elif data.isdigit():
        load_generated(state, int(data), program_id)
    else:
        raise ValueError(f"--data must be demo, empty or a number, not {data!r}")
    return state
