"""A local Smart Passes Loyalty API that behaves as the spec says."""

from bot.sandbox.app import Fault, SandboxApp
from bot.sandbox.data import DEMO_APP_KEY, DEMO_PROGRAM_ID, build_state
from bot.sandbox.state import SandboxState

__all__ = [
    "DEMO_APP_KEY",
    "DEMO_PROGRAM_ID",
    "Fault",
    "SandboxApp",
    "SandboxState",
    "build_state",
]
