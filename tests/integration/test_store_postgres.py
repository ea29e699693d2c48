"""The unit tests that take `store_url`, again on PostgreSQL (they run in-process, on
SQLite in memory, in tests/unit); skipped when LOYALTY_TEST_DATABASE_URL is not set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres
from tests.unit.test_store import (  # collected again here, on PostgreSQL
    test_a_database_made_by_the_old_runner_is_upgraded_in_place,
    test_a_fresh_database_is_migrated_to_head_once,
    test_record_and_query_entries,
    test_the_migrations_make_exactly_the_tables_the_code_uses,
)
from tests.unit.test_workspaces import (  # collected again here, on PostgreSQL
    test_a_change_is_completed_and_counted_in_its_own_workspace_only,
    test_each_workspace_has_its_own_records,
)

__all__ = [
    "test_a_change_is_completed_and_counted_in_its_own_workspace_only",
    "test_a_database_made_by_the_old_runner_is_upgraded_in_place",
    "test_a_fresh_database_is_migrated_to_head_once",
    "test_each_workspace_has_its_own_records",
    "test_record_and_query_entries",
    "test_the_migrations_make_exactly_the_tables_the_code_uses",
]


@pytest.fixture
def store_url() -> Iterator[str]:
    yield fresh_postgres()
