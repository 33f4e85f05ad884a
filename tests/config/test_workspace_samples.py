"""The files `breachops init` writes teach by example: they load as written, and every commented
example, uncommented, loads too (so what they show is what breachops accepts)."""

from __future__ import annotations

import re
from pathlib import Path

from breachops.config.agreements import load_agreement
from breachops.config.settings import load_settings
from breachops.config.workspace import init_workspace
from breachops.playbooks import shipped_playbook_files

# "# text" explains; "#key: ..." or "#  indented: ..." is an example a person uncomments.
_EXAMPLE = re.compile(r"^#(?=\S|  )", re.MULTILINE)


def uncommented(path: Path) -> str:
    return _EXAMPLE.sub("", path.read_text(encoding="utf-8"))


def test_init_writes_settings_and_an_agreement_that_load(tmp_path):
    workspace = tmp_path / ".breachops"
    init_workspace(workspace, shipped_playbook_files())
    settings = load_settings({"BREACHOPS_WORKSPACE": str(workspace)})
    assert settings.workspace == workspace and settings.reminders is None
    agreement = load_agreement(workspace / "agreement.yaml")
    assert {"disclosing", "receiving"} <= set(agreement.parties)


def test_every_commented_example_loads_once_uncommented(tmp_path):
    workspace = tmp_path / ".breachops"
    init_workspace(workspace, shipped_playbook_files())
    for name in ("settings.yaml", "agreement.yaml"):
        text = uncommented(workspace / name)
        assert text != (workspace / name).read_text(encoding="utf-8"), f"{name} shows no example"
        (workspace / name).write_text(text, encoding="utf-8")
    settings = load_settings({"BREACHOPS_WORKSPACE": str(workspace)})
    assert settings.database_url and settings.database_url.startswith("postgresql")
    assert settings.rule_files == (workspace / "rules" / "my-rules.yaml",)
    assert settings.target_hours["eu-gdpr-art34-individuals"] == 48
    assert settings.reminders is not None and settings.reminders.before_hours == (48, 24, 4, 1)
    assert settings.reminders.by_role["executive"].before_hours == (4,)
    agreement = load_agreement(workspace / "agreement.yaml")
    assert agreement.parties["disclosing"].escalation == ("incident_lead", "security", "legal", "executive")
    clause = next(n for n in agreement.notice_windows if n.id == "receiving-to-disclosing-personal-data")
    assert clause.applies_when.data_categories_any == ("personal", "credentials")
    assert clause.applies_when.risk_at_least == "likely"
    assert agreement.reminders is not None and agreement.reminders.overdue_every_hours == 2
