"""``marconi optouts``, on a SQLite database in tmp_path: add (also from a file), list, remove,
and the send refused in between."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from marconi.cli.main import main


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*argv: str) -> tuple[int, str, str]:
        status = main([*argv, "--data-dir", str(tmp_path / "data")])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def test_add_from_arguments_and_a_file_list_and_remove(run: Any, tmp_path: Path) -> None:
    listing = tmp_path / "suppressed.txt"
    listing.write_text("# exported from the old provider\n+14155550102\n\n+1 415 555 0103\n")
    status, out, _ = run("optouts", "add", "+14155550101", "--file", str(listing))
    assert (status, out.strip()) == (0, "opted out 3 destinations from every sender")
    status, out, _ = run("optouts", "add", "+14155550104", "--from", "Marconi", "--json")
    assert json.loads(out)[0]["from"] == "Marconi"
    status, out, _ = run("optouts", "list")
    assert status == 0
    assert "+14155550103" in out
    assert "(all)" in out
    listed = json.loads(run("optouts", "list", "--json")[1])
    assert [o["to"] for o in listed] == [f"+1415555010{n}" for n in range(1, 5)]
    status, _, err = run("send", "--to", "+14155550101", "--body", "hi")
    assert status == 1
    assert "opted out" in err
    assert run("optouts", "remove", "+14155550101")[0] == 0
    status, _, err = run("optouts", "remove", "+14155550101")
    assert status == 1
    assert "no opt-out" in err
    status, _, err = run("optouts", "add", "12")
    assert (status, err.split(":")[1].strip()) == (1, "to")
    assert run("optouts", "add")[0] == 2
