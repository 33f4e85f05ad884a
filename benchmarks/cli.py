"""How long the everyday commands take to start and answer, as a person at a terminal sees them.

    .venv/bin/python benchmarks/cli.py [--runs 7] [--baseline REV] [--imports]

Uses a throwaway workspace (one incident recorded with --no-flow, so no Prefect server runs) and
prints the wall time of each command that needs no Prefect, start to exit, median and max of --runs;
target: <= 0.5 s. The commands take turns, one run of each per round, so that a machine busy with
something else for a while slows all of them alike rather than one; the median CPU time (user and
system) of each command's process is shown too, which a busy machine changes less.

With --baseline REV (a git revision, such as ``main``), the package as it was at REV runs in the same
rounds, in a workspace of its own, and each command's median is shown beside the baseline's. With
--imports, also the packages each command's process imported that cost most (python -X importtime),
to find what is loaded needlessly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "examples" / "facts.yaml"
TARGET = 0.5


class Tree:
    """One copy of the package (``path`` goes first on PYTHONPATH) and a workspace of its own."""

    def __init__(self, label: str, path: Path, scratch: Path) -> None:
        self.label = label
        self.folder = scratch / label
        self.folder.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
        self.env.update({"BREACHOPS_WORKSPACE": str(self.folder / ".breachops"), "PYTHONPATH": str(path)})

    def run(self, *argv: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *extra, "-m", "breachops", *argv],
            env=self.env, cwd=self.folder, capture_output=True, text=True, check=False,
        )  # fmt: skip

    def commands(self) -> dict[str, tuple[str, ...]]:
        """The commands timed, after making the workspace and recording one incident in it."""
        self.run("init")
        opened = self.run("incident", "open", str(FACTS), "--no-flow", "--format", "json")
        if opened.returncode != 0:
            raise SystemExit(
                f"{self.label}: incident open exited {opened.returncode}: {opened.stderr[-500:]}"
            )
        incident = json.loads(opened.stdout)["incident"]
        return {
            "rules list": ("rules", "list"),
            "rules coverage": ("rules", "coverage"),
            "deadlines": ("deadlines", str(FACTS)),
            "audit verify": ("audit", "verify", incident),
            "outbox list": ("outbox", "list"),
            "--help": ("--help",),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", metavar="REV", help="also time the package at this git revision")
    parser.add_argument("--imports", action="store_true", help="show the costliest imports per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="breachops-cli-bench-") as tmp:
        scratch = Path(tmp)
        trees = [Tree("this", ROOT, scratch)]
        if args.baseline:
            trees.append(Tree("baseline", baseline_tree(args.baseline, scratch), scratch))
        commands = {tree.label: tree.commands() for tree in trees}
        names = list(commands["this"])
        times: dict[tuple[str, str], list[float]] = {(t.label, n): [] for t in trees for n in names}
        cpu: dict[tuple[str, str], list[float]] = {(t.label, n): [] for t in trees for n in names}
        for _ in range(args.runs):
            for name in names:
                for tree in trees:
                    started, used = time.perf_counter(), _children_cpu()
                    result = tree.run(*commands[tree.label][name])
                    times[tree.label, name].append(time.perf_counter() - started)
                    cpu[tree.label, name].append(_children_cpu() - used)
                    if result.returncode != 0:
                        raise SystemExit(
                            f"{tree.label}: {name} exited {result.returncode}: {result.stderr[-500:]}"
                        )
        header = f"{'command':<16} {'median':>8} {'max':>8} {'cpu':>7}"
        if args.baseline:
            header += f" {'baseline':>9} {'cpu':>7}"
        print(f"{header}   (target <= {TARGET} s, {args.runs} runs)")
        for name in names:
            median = statistics.median(times["this", name])
            line = f"{name:<16} {median:>7.2f}s {max(times['this', name]):>7.2f}s"
            line += f" {statistics.median(cpu['this', name]):>6.2f}s"
            if args.baseline:
                line += f" {statistics.median(times['baseline', name]):>8.2f}s"
                line += f" {statistics.median(cpu['baseline', name]):>6.2f}s"
            print(line + ("" if median <= TARGET else "  over target"))
            if args.imports:
                _show_imports(trees[0].run(*commands["this"][name], extra=("-X", "importtime")).stderr)


def _children_cpu() -> float:
    """CPU seconds (user and system) used so far by the processes this one has waited for."""
    times = os.times()
    return times.children_user + times.children_system


def baseline_tree(revision: str, scratch: Path) -> Path:
    """The package as it was at ``revision``, unpacked into ``scratch``."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "breachops"], capture_output=True, check=True
    ).stdout
    folder = scratch / "baseline-tree"
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return folder


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
