"""The account, key, number, message and send commands, on a SQLite database in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from marconi.cli.main import main
from marconi.services import ADMIN_ACCOUNT_ID


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*argv: str) -> tuple[int, str, str]:
        status = main([*argv, "--data-dir", str(tmp_path / "data")])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def test_keys_create_json_list_and_revoke(run: Any) -> None:
    status, out, _ = run("keys", "create", "--name", "ci", "--json")
    assert status == 0
    key = json.loads(out)
    assert key["id"].startswith("SK")
    assert len(key["secret"]) >= 43
    assert key["account_sid"] == ADMIN_ACCOUNT_ID
    status, out, _ = run("keys", "list")
    assert status == 0
    assert key["id"] in out
    assert key["secret"] not in out
    assert "active" in out
    assert run("keys", "revoke", key["id"])[0] == 0
    listed = json.loads(run("keys", "list", "--json")[1])
    assert listed[0]["revoked_at"] is not None
    status, _, err = run("keys", "revoke", "SK" + "0" * 32)
    assert status == 1
    assert "not found" in err


def test_accounts_create_and_show(run: Any) -> None:
    status, out, _ = run("accounts", "create", "--name", "tenant", "--json")
    assert status == 0
    account = json.loads(out)
    assert account["auth_token"]
    assert account["key"]["secret"]
    assert account["parent_sid"] == ADMIN_ACCOUNT_ID
    shown = json.loads(run("accounts", "show", "--json")[1])
    assert [a["sid"] for a in shown["subaccounts"]] == [account["sid"]]
    status, out, _ = run("accounts", "show", "--account", account["sid"])
    assert status == 0
    assert "tenant" in out
    status, out, _ = run("accounts", "create")
    assert "auth token:" in out


def test_numbers_send_and_messages(run: Any) -> None:
    status, out, _ = run("numbers", "add", "+1 415 555 0100", "--webhook", "http://127.0.0.1:9/in")
    assert status == 0
    assert "+14155550100" in out
    assert run("numbers", "update", "+14155550100", "--method", "GET")[0] == 0
    numbers = json.loads(run("numbers", "list", "--json")[1])
    mine = next(n for n in numbers if n["number"] == "+14155550100")
    assert mine["inbound_webhook_method"] == "GET"
    status, out, _ = run(
        "send", "--to", "+14155550199", "--from", "+14155550100", "--body", "Hi €", "--json"
    )
    assert status == 0
    message = json.loads(out)
    assert (message["status"], message["encoding"], message["segments"]) == ("queued", "gsm7", 1)
    listed = run("messages", "list")[1]
    assert message["id"] in listed
    shown = run("messages", "show", message["id"])[1]
    assert "queued" in shown
    assert "Hi €" in shown
    status, _, err = run("send", "--to", "12", "--body", "x")
    assert status == 1
    assert err.startswith("marconi send: to:")
    assert run("numbers", "remove", mine["id"])[0] == 0
    status, _, err = run("send", "--to", "+14155550199", "--from", "+14155550100", "--body", "x")
    assert status == 1
    assert "from" in err
