"""The SendGrid key kept in a real Prefect Secret block, read the way every process reads it: through
the composition root's mail settings."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.prefect

KEY = "SG." + "block-held" + "-key-4711"

SCRIPT = textwrap.dedent(
    """
    import json, logging, os, sys
    from pathlib import Path
    from breachops.flows.runtime import ensure_prefect

    ensure_prefect(Path(sys.argv[2]))  # the workspace's running server, as `serve` finds it
    from prefect.blocks.system import Secret as SecretBlock
    from breachops.bootstrap import bootstrap

    SecretBlock(value=sys.argv[1]).save("breachops-sendgrid-test", overwrite=True)
    os.environ.pop("SENDGRID_API_KEY", None)
    os.environ.update({
        "BREACHOPS_MAIL_CHANNEL": "sendgrid",
        "BREACHOPS_MAIL_FROM": "incidents@nordlicht.example",
        "BREACHOPS_SENDGRID_SECRET_BLOCK": "breachops-sendgrid-test",
    })
    settings = bootstrap().mail_settings
    key = settings.sendgrid_api_key
    logging.getLogger("probe").warning("settings: %r", settings)
    print(json.dumps({"revealed": key.reveal(), "shown": repr(settings) + str(key)}))
    """
)


def test_the_sendgrid_key_comes_from_a_prefect_secret_block_and_never_shows(served):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, KEY, str(served.path)],
        env=served.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["revealed"] == KEY
    assert KEY not in out["shown"] and KEY not in result.stderr
