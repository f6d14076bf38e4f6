from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from marconi.cli.main import main

MARCONI = Path(sys.executable).with_name("marconi")


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["segments", "--json", *argv]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_json_for_gsm_text(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "Hello €")
    assert data["encoding"] == "gsm7"
    assert data["segments"] == 1
    assert data["characters"] == 7
    assert data["units"] == 8
    assert data["remaining"] == 152
    assert data["non_gsm_characters"] == []


def test_json_names_what_forced_ucs2(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "Hi 😀 ç 😀")
    assert data["encoding"] == "ucs2"
    assert data["non_gsm_characters"] == ["😀", "ç"]
    assert data["units"] == 10
    assert data["remaining"] == 60


def test_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "--encoding", "ucs2", "hello")["encoding"] == "ucs2"
    smart = run_json(capsys, "--smart", "“hi”")
    assert smart["encoding"] == "gsm7"
    assert smart["replacements"] == [{"from": "“", "to": '"'}, {"from": "”", "to": '"'}]
    assert run_json(capsys, "ş" * 100)["encoding"] == "turkish-locking"
    assert run_json(capsys, "--national", "none", "ş" * 100)["encoding"] == "ucs2"
    assert run_json(capsys, "--national", "spanish,turkish", "ş" * 100)["segments"] == 1
    assert run_json(capsys, "--concatenation", "udh16", "a" * 161)["remaining"] == 152 * 2 - 161


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "“Hello” 😀"]) == 0
    out = capsys.readouterr().out
    assert "encoding:    ucs2 (data_coding 0x08)" in out
    assert "segments:    1 segment of up to 70 UTF-16 units" in out
    assert "remaining:   60 UTF-16 units left" in out
    assert "😀 (U+1F600)" in out
    assert "“ (U+201C)" in out


def test_human_output_with_replacements(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "--smart", "a" * 200 + "…"]) == 0
    out = capsys.readouterr().out
    assert "2 segments of up to 153 septets" in out
    assert "… (U+2026) → '...'" in out


def test_text_from_stdin_drops_one_final_newline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin("ab€\n".encode()))
    assert run_json(capsys)["units"] == 4
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"ab\r\n"))
    assert run_json(capsys, "-")["units"] == 2
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"ab\n\n"))
    assert run_json(capsys, "-")["units"] == 3


def test_invalid_utf8_on_stdin_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"ok \xff\xfe"))
    assert main(["segments"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not valid UTF-8 (octet 3)" in captured.err


def test_explicit_gsm7_that_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "--encoding", "gsm7", "--national", "none", "ş😀"]) == 1
    err = capsys.readouterr().err
    assert "U+015F" in err
    assert "U+1F600" in err


def test_unknown_national_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "--national", "klingon", "x"]) == 1
    assert "unknown national language 'klingon'" in capsys.readouterr().err


def test_the_installed_command() -> None:
    done = subprocess.run(
        [str(MARCONI), "segments", "--json"],
        input="Grüße aus Köln 👋\n".encode(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["encoding"] == "ucs2"
    assert data["characters"] == 16
    assert data["non_gsm_characters"] == ["👋"]

    bad = subprocess.run(
        [str(MARCONI), "segments"], input=b"\xc3\x28", capture_output=True, check=False, timeout=60
    )
    assert bad.returncode == 1
    assert b"not valid UTF-8" in bad.stderr
