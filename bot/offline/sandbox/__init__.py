"""A local Smart Passes Loyalty API that behaves as the spec says."""

from bot.offline.sandbox.app import Fault, SandboxApp
from bot.offline.sandbox.data import DEMO_APP_KEY, DEMO_PROGRAM_ID, build_state
from bot.offline.sandbox.state import SandboxState
from bot.offline.sandbox.transport import InProcessTransport

__all__ = [
    "DEMO_APP_KEY",
    "DEMO_PROGRAM_ID",
    "Fault",
    "InProcessTransport",
    "SandboxApp",
    "SandboxState",
    "build_state",
]
