"""The command line loads only the command it runs, and lists the others truthfully."""

from __future__ import annotations

import subprocess
import sys

import pytest

from marconi.cli.main import COMMANDS, build_parser


def _helps(parser: object) -> dict[str, str]:
    subparsers = next(
        a
        for a in parser._actions
        if a.dest == "command"  # type: ignore[attr-defined]
    )
    return {c.dest: c.help for c in subparsers._choices_actions}


def test_the_listed_help_lines_are_the_modules_own() -> None:
    assert _helps(build_parser()) == {name: help for name, (_, help) in COMMANDS.items()}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_gets_its_full_parser(command: str) -> None:
    parser = build_parser([command, "--help"])
    full = build_parser()
    chosen = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    expected = full._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    assert chosen.format_help() == expected.format_help()


def test_the_simulator_does_not_load_the_web_stack_or_the_database() -> None:
    probe = (
        "import sys\n"
        "from marconi.cli.main import build_parser\n"
        "build_parser(['smsc', '--port', '1']).parse_args(['smsc', '--port', '1'])\n"
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'uvicorn') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_no_command_prints_the_list_and_fails() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "marconi.cli.main"], capture_output=True, text=True
    )
    assert result.returncode == 2
    for name in COMMANDS:
        assert name in result.stdout
