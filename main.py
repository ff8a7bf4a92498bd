"""Ceol launcher: no arguments (or only file names) open the window; a subcommand runs headless.

    python main.py                 the desktop app on its bundled defaults
    python main.py tunes.abc       the desktop app with these files opened
    python main.py info celtic     a CLI subcommand (see `python main.py --help`)
"""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from app.cli import is_cli_invocation, unknown_command

    if is_cli_invocation(argv):
        from app.cli import main as cli_main

        return cli_main(argv)
    problem = unknown_command(argv)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from app.ui.launch import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
