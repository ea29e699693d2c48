from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.errors import ConfigError
from bot.domain.settings import load_settings, zone_named

REQUIRED = {"SMARTPASSES_APP_KEY": "key-abc", "SMARTPASSES_PROGRAM_ID": "4886905521176576"}
ALL_VARS = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SMARTPASSES_APP_KEY",
    "SMARTPASSES_PROGRAM_ID",
    "LOYALTY_MANAGERS",
    "LOYALTY_SUMMARY_TIME",
    "LOYALTY_TIMEZONE",
    "DATABASE_URL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ALL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_missing_required_variable_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTPASSES_PROGRAM_ID", "1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith("SMARTPASSES_APP_KEY is not set")
    assert "App Key" in message


def test_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOYALTY_SUMMARY_TIME", "9am")
    with pytest.raises(ConfigError, match=r"^LOYALTY_SUMMARY_TIME is not valid: .*HH:MM"):
        load_settings()
    monkeypatch.setenv("LOYALTY_SUMMARY_TIME", "07:30")
    for zone in ("Mars/Olympus", "America", "Mexico"):  # a folder of zones too: no traceback
        monkeypatch.setenv("LOYALTY_TIMEZONE", zone)
        with pytest.raises(ConfigError, match=r"^LOYALTY_TIMEZONE is not valid"):
            load_settings()


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("America/Mexico_City", "America/Mexico_City"),
        ("Mexico", "America/Mexico_City"),  # the start of one city's name
        ("mexico city", "America/Mexico_City"),
        (" Madrid ", "Europe/Madrid"),
        ("Bogotá", "America/Bogota"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),  # one zone under two names
        ("utc", "UTC"),
        ("America", None),  # a folder of zones
        ("Santa", None),  # the start of several
        ("CDMX", None),
        ("Mars/Olympus", None),
        ("", None),
    ],
)
def test_a_time_zone_is_read_from_its_name_or_its_city(typed, zone) -> None:
    assert zone_named(typed) == zone


def test_values_parsed_and_secrets_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOYALTY_MANAGERS", "U1, U2 ,,U3")
    monkeypatch.setenv("LOYALTY_SUMMARY_TIME", "07:30")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert settings.loyalty_managers == ["U1", "U2", "U3"]
    assert settings.loyalty_summary_time == dt.time(7, 30)
    assert settings.smartpasses_program_id == 4886905521176576
    assert settings.database_url == "sqlite:///loyalty-bot.db"
    assert "key-abc" not in repr(settings) and "xoxb-very-secret" not in repr(settings)


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("SMARTPASSES_APP_KEY=from-file\nSMARTPASSES_PROGRAM_ID=7\n")
    settings = load_settings()
    assert settings.smartpasses_app_key.get_secret_value() == "from-file"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOYALTY_SUMMARY_CHANNEL", "#general"),
        ("LOYALTY_MANAGERS", "U012AB,marta"),
        ("LOYALTY_MANAGER_GROUP", "@managers"),
    ],
)
def test_names_where_ids_are_needed_are_refused(monkeypatch, variable, value) -> None:
    for name, default in REQUIRED.items():
        monkeypatch.setenv(name, default)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=rf"^{variable} is not valid: put .*id"):
        load_settings()
