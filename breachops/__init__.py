"""breachops: breach response and incident drill orchestration for parties sharing confidential know-how."""

import os as _os

# Prefect must never reach outside this machine from any breachops process, whatever the caller's
# environment says: telemetry off before Prefect is imported anywhere.
_os.environ["DO_NOT_TRACK"] = "1"
_os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
_os.environ["PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY"] = "false"

__version__ = "0.1.0"
