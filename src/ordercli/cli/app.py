"""The `ordercli` program: the root command, global options, and the one place where
errors become an `error:` line (or a JSON error object) and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ordercli import __version__
from ordercli.cli import common
from ordercli.core.errors import Interrupted, OrderCliError, StorageError, UsageError

try:  # typer >= 0.22 vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc  # type: ignore[no-redef]


def _wants_json(args: list[str]) -> bool:
    if "--" in args:
        args = args[: args.index("--")]
    return (
        "--json" in args
        or "--format=json" in args
        or any(a == "--format" and b == "json" for a, b in zip(args, args[1:], strict=False))
    )


class OrderCliGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in SUBCOMMANDS:
            return load_subcommand(cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:
        # Typer turns Ctrl-C into a silent exit 130; the contract wants the error line (or object) too
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted", "interrupted") from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # the groups load lazily, so Typer's own suggestion (over self.commands) sees none of them
        try:
            return super().resolve_command(ctx, args)
        except click_exc.UsageError as exc:
            if args and "Did you mean" not in exc.message:
                from difflib import get_close_matches

                matches = get_close_matches(args[0], list(SUBCOMMANDS), n=1, cutoff=0.6)
                if matches:
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {matches[0]!r}?"
            raise

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Always non-standalone inside, so every failure comes here and leaves as one
        `error:` line (or JSON object) and the exit code of docs/cli.md."""
        argv = list(sys.argv[1:] if args is None else args)
        as_json = _wants_json(argv)
        from ordercli.cli.render import emit_error

        env = extra.pop("obj", None) or common.Env()
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name or "ordercli",
                complete_var=complete_var,
                standalone_mode=False,
                obj=env,
                **extra,
            )
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except click_exc.NoArgsIsHelpError as exc:
            try:
                _print(exc.ctx.get_help() + "\n")  # type: ignore[union-attr]
                code = 0
            except StorageError as failed:
                code = _report_and_mute(failed, as_json)
            except BrokenPipeError:
                _silence_stdout()
                code = 0
        except click_exc.ClickException as exc:  # bad options and values: all usage (exit 2)
            emit_error(UsageError(exc.format_message(), "usage"), as_json)
            code = 2
        except OrderCliError as exc:
            exc.relabel(common.OPTION_NAMES)
            exc.hint("ordercli")
            exc = _after_the_save(exc, env)
            if exc.code in ("output_failed", "saved_output_failed", "interrupted", "saved_interrupted"):
                code = _report_and_mute(exc, as_json)
            else:
                emit_error(exc, as_json)
                code = exc.exit_code
        except (typer.Abort, KeyboardInterrupt):
            code = _report_and_mute(_after_the_save(Interrupted("interrupted", "interrupted"), env), as_json)
        except BrokenPipeError:
            # the reader went away (e.g. `| head`): nothing more to say to it
            _silence_stdout()
            code = 0
        except SystemExit as exc:
            if not isinstance(exc.__context__, BrokenPipeError):
                raise
            # click's own answer to a reader that went away (in --help, or around a command) is
            # exit 1: it is not an error here either
            _silence_stdout()
            code = 0
        except OSError as exc:
            if _from_echo(exc):  # click's own --help output hit a full disk
                code = _report_and_mute(StorageError(_could_not_write(exc), "output_failed"), as_json)
            else:
                code = _unexpected(exc, env, as_json)
        except Exception as exc:
            code = _unexpected(exc, env, as_json)
        sys.exit(code)


def _unexpected(exc: Exception, env: common.Env, as_json: bool) -> int:
    """A damaged file's fault (exit 5), else a bug (exit 1)."""
    from ordercli.cli.render import emit_error

    if os.environ.get("ORDERCLI_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    damage = _blame_the_file(env) if env.saved is None else None
    if damage is not None:  # a hand-edited or damaged file, not a bug
        emit_error(damage, as_json)
        return damage.exit_code
    bug = OrderCliError(f"internal error: {type(exc).__name__}: {exc}", "internal_error")
    emit_error(_after_the_save(bug, env), as_json)
    return 1


def _after_the_save(exc: OrderCliError, env: common.Env) -> OrderCliError:
    """An output failure or a Ctrl-C once the change is in the data file is not "nothing done": it
    gets a code of its own, and says how to read the change back (a script must not do it again)."""
    saved = env.saved
    if saved is None:
        return exc
    if exc.code == "output_failed":
        return StorageError(
            f"the change is saved in {saved.path}, but the output could not be written "
            f"({exc.message.removeprefix('could not write the output: ')}): do not run the command again; "
            f"read the change with {saved.how_to_read()}",
            "saved_output_failed",
        )
    if exc.code == "interrupted":
        return Interrupted(
            f"interrupted after the change was saved in {saved.path}: do not run the command again; "
            f"read the change with {saved.how_to_read()}",
            "saved_interrupted",
        )
    # anything else after the save (a bug, say) keeps its code, and still says what was done
    exc.message = (
        f"{exc.message} (the change was saved in {saved.path} before this: read it with {saved.how_to_read()})"
    )
    exc.args = (exc.message,)
    return exc


def _could_not_write(exc: OSError) -> str:
    return f"could not write the output: {exc.strerror or exc}"  # as render's, for commands


def _print(text: str) -> None:
    """Help and the version on stdout; a full disk is exit 5, as for every command."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StorageError(_could_not_write(exc), "output_failed") from None


def _from_echo(exc: OSError) -> bool:
    """Whether click's `echo` raised it: help text (or completion) failing to reach stdout."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code if tb is not None else None
    return code is not None and code.co_name == "echo" and "click" in code.co_filename


def _report_and_mute(exc: OrderCliError, as_json: bool) -> int:
    """The error, then stdout muted: output that failed (or was cut short by Ctrl-C) is not
    tried again at exit."""
    from ordercli.cli.render import emit_error

    emit_error(exc, as_json)
    _silence_stdout()
    return exc.exit_code


def _silence_stdout() -> None:
    """Whatever is still buffered for stdout would fail again at exit: send it nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (an in-process caller's captured stdout): the caller owns it


def _blame_the_file(env: common.Env) -> OrderCliError | None:
    if env.sandbox is not None and env.sandbox.path is None:
        return None  # a world in memory: no file to blame
    from ordercli.store import dbcheck

    try:
        return dbcheck.diagnose(common.store(env, env.sandbox.path if env.sandbox is not None else None))
    except Exception:
        return None


app = typer.Typer(
    cls=OrderCliGroup,
    name="ordercli",
    help="A sandbox of a marketplace's order-cancellation lifecycle on a virtual clock.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        _print(f"ordercli {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="The data file (else $ORDERCLI_DB, else the user data folder).", metavar="PATH"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    e = common.env(ctx)
    if db is not None and e.in_scenario:
        raise UsageError("--db is not allowed in a scenario step: every step runs on the scenario's own world", "usage")
    e.db = db


# Each command group lives in its own module, imported only when that group runs (or
# for help and completion): a command pays for its own imports, not for everyone's.
SUBCOMMANDS: dict[str, str] = {
    "demo": "ordercli.cli.demo",
    "orders": "ordercli.cli.orders",
    "cancel": "ordercli.cli.cancel",
    "seller": "ordercli.cli.seller",
    "clock": "ordercli.cli.clock",
    "refund": "ordercli.cli.refund",
    "dispute": "ordercli.cli.dispute",
    "notifications": "ordercli.cli.history",
    "events": "ordercli.cli.history",
    "policy": "ordercli.cli.policy",
    "scenario": "ordercli.cli.scenario",
    "db": "ordercli.cli.db",
    "messages": "ordercli.cli.messages",
    "errors": "ordercli.cli.catalogue",
    "schema": "ordercli.cli.schema",
    "simulate": "ordercli.cli.simulate",
    "behaviour": "ordercli.cli.behaviour",
}


@cache
def load_subcommand(name: str) -> Any:
    # built once per process: scenario steps and tests invoke the same groups many times
    import importlib

    module = importlib.import_module(SUBCOMMANDS[name])
    sub = getattr(module, f"{name}_app", None) or module.app
    command = typer.main.get_command(sub)
    command.name = name
    return command


def main() -> None:
    typer.main.get_command(app).main(prog_name="ordercli")
