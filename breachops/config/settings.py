"""One settings object, from the environment (``BREACHOPS_*``) and the workspace's ``settings.yaml``.

Environment variables win over the file, so a deployment can override a workspace without editing it.
Secrets (mail passwords, API keys) are read where they are used, never stored here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from breachops.config.reminders import ReminderSettings
from breachops.config.values import MAX_SPAN_DAYS, Whole
from breachops.config.workspace import WORKSPACE_DIR, find_workspace
from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error

__all__ = ["SETTINGS_FILE", "Settings", "load_settings"]

SETTINGS_FILE = "settings.yaml"
_ENV = "BREACHOPS_"


_TargetHours = Annotated[Whole, Field(ge=0, le=24 * MAX_SPAN_DAYS)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace: Path = Field(default=Path(".breachops"))
    database_url: str | None = None
    rule_files: tuple[Path, ...] = ()
    # Practical targets (hours) for open terms such as "without undue delay", by rule id.
    target_hours: dict[str, Annotated[Whole, Field(ge=0, le=24 * MAX_SPAN_DAYS)]] = Field(
        default_factory=dict
    )
    # When reminders go out, unless an agreement says otherwise (see config/reminders.py).
    reminders: ReminderSettings | None = None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.workspace / 'breachops.db').resolve()}"


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if environ.get(f"{_ENV}WORKSPACE"):
        out["workspace"] = environ[f"{_ENV}WORKSPACE"]
    if environ.get(f"{_ENV}DATABASE_URL"):
        out["database_url"] = environ[f"{_ENV}DATABASE_URL"]
    if environ.get(f"{_ENV}RULE_FILES"):
        out["rule_files"] = [p for p in environ[f"{_ENV}RULE_FILES"].split(os.pathsep) if p]
    return out


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings for this process: the workspace file first, then the environment on top."""
    env = dict(os.environ if environ is None else environ)
    from_env = _from_env(env)
    # The nearest workspace (or BREACHOPS_WORKSPACE); commands that need one refuse without it.
    workspace = find_workspace(environ=env) or Path(WORKSPACE_DIR)
    file = workspace / SETTINGS_FILE
    data: dict[str, Any] = {"workspace": workspace}
    if file.exists():
        loaded = read_yaml(file) or {}
        if not isinstance(loaded, dict):
            raise InputError(file, None, None, "expected a mapping of settings")
        loaded = dict(loaded)
        # Paths in the file are relative to the workspace, wherever the command runs.
        if "rule_files" in loaded and isinstance(loaded["rule_files"], list):
            loaded["rule_files"] = [str(workspace / p) for p in loaded["rule_files"]]
        data.update(loaded)
    data.update(from_env)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, file if file.exists() else "environment") from None
