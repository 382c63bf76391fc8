"""Migration executor settings: on by default, 24 h retention, bad values refused at startup."""

from __future__ import annotations

import pytest

from augur.operator.settings import OperatorSettings


def test_defaults() -> None:
    s = OperatorSettings.from_env({})
    assert s.migrations is True and s.migration_retention_seconds == 86400 and s.migration_poll_seconds == 2


def test_off_switch_and_values() -> None:
    env = {"AUGUR_MIGRATIONS": "false", "AUGUR_MIGRATION_RETENTION_SECONDS": "60", "AUGUR_MIGRATION_POLL_SECONDS": "1"}
    s = OperatorSettings.from_env(env)
    assert (s.migrations, s.migration_retention_seconds, s.migration_poll_seconds) == (False, 60, 1)


@pytest.mark.parametrize("env", [{"AUGUR_MIGRATION_RETENTION_SECONDS": "0"}, {"AUGUR_MIGRATIONS": "maybe"}])
def test_bad_values_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="AUGUR_MIGRATION"):
        OperatorSettings.from_env(env)
