"""How long the everyday commands take to start and answer, as a person at a terminal sees them.

    .venv/bin/python benchmarks/cli.py [--runs 5]

Uses a throwaway workspace (one incident recorded with --no-flow, so no Prefect server runs) and
prints the wall time of each command, start to exit, median and max of --runs; target: <= 0.5 s.
With --imports, also the modules each command's process imported that cost most (python -X
importtime), to find what is loaded needlessly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "examples" / "facts.yaml"
TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imports", action="store_true", help="show the costliest imports per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="breachops-cli-bench-") as tmp:
        workspace = Path(tmp) / ".breachops"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
        env.update({"BREACHOPS_WORKSPACE": str(workspace), "PYTHONPATH": str(ROOT)})

        def run(*argv: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, *extra, "-m", "breachops", *argv],
                env=env, cwd=tmp, capture_output=True, text=True, check=False,
            )  # fmt: skip

        run("init")
        opened = run("incident", "open", str(FACTS), "--no-flow", "--format", "json")
        incident = json.loads(opened.stdout)["incident"]
        commands = {
            "rules list": ("rules", "list"),
            "deadlines": ("deadlines", str(FACTS)),
            "audit verify": ("audit", "verify", incident),
            "outbox list": ("outbox", "list"),
            "--help": ("--help",),
        }
        print(f"{'command':<14} {'median':>8} {'max':>8}   (target <= {TARGET} s, {args.runs} runs)")
        for name, argv in commands.items():
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = run(*argv)
                times.append(time.perf_counter() - started)
                if result.returncode != 0:
                    raise SystemExit(f"{name} exited {result.returncode}: {result.stderr[-500:]}")
            median = statistics.median(times)
            flag = "" if median <= TARGET else "  over target"
            print(f"{name:<14} {median:>7.2f}s {max(times):>7.2f}s{flag}")
            if args.imports:
                _show_imports(run(*argv, extra=("-X", "importtime")).stderr)


def _show_imports(trace: str, top: int = 8) -> None:
    """Import time by top-level package (the sum of its modules' own times): what laziness could save."""
    by_package: dict[str, int] = {}
    for line in trace.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        if own.isdigit():
            package = name.split(".")[0]
            by_package[package] = by_package.get(package, 0) + int(own)
    for package, micros in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {package:<24} {micros / 1e6:6.2f}s")


if __name__ == "__main__":
    main()
