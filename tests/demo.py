"""The demo program's records (bot/offline/sandbox/data.py's `load_demo`), by name: every
test that speaks of Juan or the free coffee means these."""

from __future__ import annotations

from bot.offline.sandbox.data import DEMO_APP_KEY, DEMO_PROGRAM_ID

__all__ = [
    "ANA",
    "ANON",
    "CAFE",
    "DEMO_APP_KEY",
    "DEMO_PROGRAM_ID",
    "JUAN",
    "JUANA",
    "LUIS",
    "PAN",
    "SOFIA",
]

ANON = 1869  # Anónimo #1869
JUAN = 1870  # Juan Pérez, 5 points
JUANA = 1871  # Juana Pérez
LUIS = 1872
SOFIA = 1873
ANA = 6629146321223680  # Ana García
CAFE = 5001  # "Café Gratis", Published, 10 points
PAN = 5002  # "Pan dulce 2x1"
