"""Headless commands: `python main.py <command> ...`; the only place in Ceol that prints.

Each command lives in a small module with `register(subparsers)`; heavy libraries (torch,
music21) are imported inside the command functions so `--help` stays fast. Errors the core
raises for bad input become one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from app import __version__

# Modules that each add subcommands; listed here so the order in --help is stable.
COMMAND_MODULES = (
    "app.cli.info_cmd", "app.cli.convert_cmd", "app.cli.check_cmd", "app.cli.train_cmd",
    "app.cli.generate_cmd", "app.cli.evaluate_cmd", "app.cli.model_info_cmd",
    "app.cli.demo_cmd", "app.cli.kernels_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="ceol", description="Ceol: folk tunes and recurrent networks. "
        "Without a command, `python main.py [FILE ...]` opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"ceol {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def command_names() -> set[str]:
    """Return the names of the registered subcommands."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def is_cli_invocation(argv: list[str]) -> bool:
    """Tell whether argv asks for a CLI command (or help/version) rather than the GUI."""
    if not argv:
        return False
    first = argv[0]
    return first.startswith("-") or first in command_names()


def unknown_command(argv: list[str]) -> str | None:
    """Return the one-line error for a first word that is neither a command nor a file, else None.

    `python main.py tunes.abc` opens the window with a file, but `python main.py demos ...`
    (a mistyped or missing command) must not open the window with "demos" as a file name. A word
    that names no existing file or folder, has no file extension and no path separator is taken
    for a command.
    """
    import os

    if not argv or is_cli_invocation(argv):
        return None
    first = argv[0]
    if os.path.exists(first) or os.path.splitext(first)[1] or os.sep in first or "/" in first:
        return None
    names = ", ".join(sorted(command_names()))
    return (f"ceol: unknown command '{first}' (and no file of that name). Commands: {names}. "
            "See `python main.py --help`.")


def user_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types that mean bad input rather than a bug."""
    from app.music.errors import MusicError

    errors: list[type[BaseException]] = [MusicError, OSError]
    try:
        from model.errors import ModelError
    except ModuleNotFoundError:
        pass
    else:
        errors.append(ModelError)
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit status (0 ok, 1 interrupted, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from app.kernels import remember_kernels

    remember_kernels()   # measured kernel choices outlive the command (model/kernel_choice.py)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("ceol: interrupted", file=sys.stderr)
        return 1
    except user_errors() as exc:
        print(f"ceol {args.command}: error: {exc}", file=sys.stderr)
        return 2
