"""The command line: translates arguments into calls and results into tables, JSON or files.

Bad input exits with status 2 and one line naming the file, field and value; nothing is written.
"""

from __future__ import annotations

import sys

import typer
from rich.text import Text

try:  # recent Typer vendors click under a private name; earlier versions use click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from breachops.commands.common import err, whole_lines
from breachops.commands.lazy import Lazy, LazyGroup
from breachops.errors import InputError, ServiceUnavailable
from breachops.textsafe import inert

__all__ = ["COMMANDS", "app", "main"]

_C = "breachops.commands"

COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        f"{_C}.runtime:init",
        "Create a workspace: settings, an example agreement and the default playbooks, to edit.",
    ),
    "serve": Lazy(
        f"{_C}.runtime:serve",
        "Run the playbooks and drills: claim and run their flow runs, send reminders, fire drill\n"
        "schedules, until stopped.",
    ),
    "web": Lazy(
        f"{_C}.web:web",
        "Run the web console in the foreground until stopped. Sign-in mail goes out through the\n"
        "workspace's mail settings at once; other messages are sent by `breachops serve`.",
    ),
    "status": Lazy(
        f"{_C}.background:status",
        "What runs for this workspace, with which settings, and anything unhealthy (exit 1 if so).",
    ),
    "stop": Lazy(
        f"{_C}.background:stop",
        "End the background processes this workspace started: `serve` and the local Prefect server.",
    ),
    "restart": Lazy(
        f"{_C}.background:restart",
        "Stop `serve` and start it again with this shell's settings (mail channel, sender, database).",
    ),
    "deadlines": Lazy(
        f"{_C}.deadlines:deadlines",
        "Every notification obligation that follows from an incident's facts, strictest first, with why.",
    ),
    "rules": Lazy(f"{_C}.rules:rules_app", "The rule catalogue: legal and contractual notification duties."),
    "incident": Lazy(f"{_C}.incidents:incident_app", "Open, follow and close incidents."),
    "step": Lazy(f"{_C}.incidents:step_app", "Confirm playbook steps (answer their gates)."),
    "obligation": Lazy(
        f"{_C}.obligations:obligation_app",
        "Record an obligation met (its notice went out) or waived (with a reason).",
    ),
    "audit": Lazy(f"{_C}.audit:audit_app", "The append-only, hash-chained, sealed audit log."),
    "agreement": Lazy(
        f"{_C}.agreements:agreement_app",
        "The technology-transfer agreement: parties, contacts, notice windows.",
    ),
    "outbox": Lazy(f"{_C}.outbox:outbox_app", "The outbox: every message, its key, attempts and status."),
    "notify": Lazy(f"{_C}.outbox:notify_app", "Mail delivery checks."),
    "drill": Lazy(
        f"{_C}.drills:drill_app",
        "Tabletop drills: a scenario's injects run through the playbook in drill mode, scored and "
        "reported. A drill emails only its participants, every subject starts with [DRILL], and it "
        "never writes to a regulator or to the people affected.",
    ),
    "actions": Lazy(
        f"{_C}.actions:actions_app",
        "Corrective actions raised by drills: list, update, close with evidence, export the plan.",
    ),
}
"""Every command by name, in the order `breachops --help` lists them: where it lives, and the first
paragraph of its help as Typer lists it (a docstring's line breaks kept). Only the command that runs
is imported (``commands/lazy.py``), so that `breachops rules list` does not pay for the store, the
flows or the web console."""


class _Breachops(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="breachops",
    help="Breach response and incident drills for parties sharing confidential know-how.\n\n"
    "Start with `breachops deadlines FACTS --agreement agreement.yaml` to see every notification duty "
    "an incident triggers, strictest first.",
    cls=_Breachops,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _no_options() -> None:
    """The commands are the group's (see COMMANDS); Typer makes a group of an app with a callback."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning bad input into one clear line and exit status 2.

    Arguments are checked as text first (bytes that are not UTF-8 arrive as lone surrogates), and a
    usage error (an unknown option, a missing argument, a value of the wrong type) is one line too.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    whole_lines()
    try:
        check_arguments(args)
        code = app(args=args, prog_name="breachops", standalone_mode=False)
    except InputError as exc:
        _fail(str(exc))
    except ServiceUnavailable as exc:
        # One sentence, then the hint: the service's own words may or may not end with a stop.
        reason = str(exc).rstrip(". ") + "."
        _fail(reason, "What was recorded stays recorded; try again once it answers.", status=4)
    except click_errors.NoArgsIsHelpError:
        sys.exit(2)  # Typer has printed the help
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "breachops"
        _fail(f"{where}: {exc.format_message()}", f"See `{where} --help`.")
    except click_errors.ClickException as exc:
        _fail(exc.format_message())
    except typer.Abort:
        err.print("aborted", highlight=False)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def check_arguments(args: list[str]) -> None:
    """Refuse an argument that is not text: undecodable bytes, or a NUL (which no C string holds)."""
    for position, arg in enumerate(args, start=1):
        bad = next((c for c in arg if "\ud800" <= c <= "\udfff" or c == "\x00"), None)
        if bad is not None:
            problem = "is not valid UTF-8" if bad != "\x00" else "holds a NUL character"
            raise InputError(f"argument {position}", None, arg, problem, "Pass arguments as UTF-8 text.")


def _fail(message: str, hint: str | None = None, *, status: int = 2) -> None:
    line = " ".join(inert(message).split()) + (f" {hint}" if hint else "")
    err.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)
    sys.exit(status)
