"""``marconi templates``, on a SQLite database in tmp_path."""

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


def test_add_version_show_render_and_remove(run: Any) -> None:
    status, out, _ = run("templates", "add", "ship", "--body", "Hi {{name}}, order {{order}}")
    assert status == 0
    assert "en version 1" in out
    status, out, _ = run(
        "templates", "version", "ship", "--locale", "es", "--body", "Hola {{name}}"
    )
    assert (status, out.strip()) == (0, "added ship es version 1")
    status, out, err = run("templates", "render", "ship", "--var", "name=Ada", "--var", "order=7")
    assert (status, out.strip()) == (0, "Hi Ada, order 7")
    assert "gsm7, 1 segment" in err
    rendered = json.loads(
        run("templates", "render", "ship", "--locale", "es", "--var", "name=Zoé", "--json")[1]
    )
    assert (rendered["body"], rendered["segments"]) == ("Hola Zoé", 1)
    status, _, err = run("templates", "render", "ship", "--var", "name=Ada")
    assert status == 1
    assert "variables.order" in err
    shown = json.loads(run("templates", "show", "ship", "--json")[1])
    assert [(v["locale"], v["version"]) for v in shown["versions"]] == [("en", 1), ("es", 1)]
    listed = json.loads(run("templates", "list", "--json")[1])
    assert [t["name"] for t in listed] == ["ship"]
    assert run("templates", "remove", "ship")[0] == 0
    status, out, _ = run("templates", "list")
    assert "no templates yet" in out
    status, _, err = run("templates", "add", "bad", "--body", "Hi {{name")
    assert status == 1
    assert "placeholder" in err
