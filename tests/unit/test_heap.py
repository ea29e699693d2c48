"""The process-wide malloc setting that hands freed index memory back (bot.domain.heap)."""

from __future__ import annotations

import platform

from bot.domain.heap import return_freed_memory


def test_the_mapping_threshold_is_fixed_where_the_c_library_is_glibc() -> None:
    assert return_freed_memory() is (platform.libc_ver()[0] == "glibc")
