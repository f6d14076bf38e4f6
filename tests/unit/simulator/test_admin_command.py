from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from marconi.errors import ConfigError, LocalProtocolError
from marconi.simulator.admin import (
    FaultCommand,
    HandsetCommand,
    MoCommand,
    SimpleCommand,
    handle_line,
    parse_command,
)
from marconi.simulator.fault import Faults
from marconi.simulator.handset import Direction, HandsetMessage
from marconi.simulator.rule import Fate


class FakeTarget:
    def __init__(self) -> None:
        self.faults = Faults()
        self.injected: list[tuple[str, str, str, str | None]] = []
        self.refuse = False

    async def inject_mo(
        self, *, source: str, destination: str, text: str, system_id: str | None = None
    ) -> tuple[str, ...]:
        if self.refuse:
            raise LocalProtocolError("no receiver is bound")
        self.injected.append((source, destination, text, system_id))
        return ("m1", "m2")

    def handset(self, number: str) -> list[HandsetMessage]:
        return [
            HandsetMessage(
                number=number,
                direction=Direction.RECEIVED,
                peer="ACME",
                text="héllo",
                message_ids=("7",),
                at=1.5,
                parts=1,
                total_parts=1,
                fate=Fate.DELIVERED,
                data_coding=0,
            )
        ]

    def handset_numbers(self) -> list[str]:
        return ["1", "2"]

    def stats(self) -> Mapping[str, int | float]:
        return {"submits": 3}


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("mo 4477 12345 hello there", MoCommand("4477", "12345", "hello there")),
        (
            'MO 4477 12345 "line\\nbreak \\ud83d\\ude00"',
            MoCommand("4477", "12345", "line\nbreak 😀"),
        ),
        (
            "fault throttle-every=10 slow-receipts=2",
            FaultCommand(("throttle-every=10", "slow-receipts=2")),
        ),
        ("handset +4477", HandsetCommand("+4477")),
        ("  stats ", SimpleCommand("stats")),
        ("quit", SimpleCommand("quit")),
        (
            '{"cmd": "mo", "source": "a", "destination": "b", "text": "c", "system_id": "acme"}',
            MoCommand("a", "b", "c", "acme"),
        ),
        ('{"cmd": "fault", "specs": ["black-hole"]}', FaultCommand(("black-hole",))),
        ('{"cmd": "handset", "number": "1"}', HandsetCommand("1")),
        ('{"cmd": "handsets"}', SimpleCommand("handsets")),
    ],
)
def test_parse(line: str, command: object) -> None:
    assert parse_command(line) == command


@pytest.mark.parametrize(
    "line",
    [
        "",
        "mo 1 2",
        'mo 1 2 "unterminated',
        "fault",
        "handset",
        "handset 1 2",
        "stats now",
        "launch",
        "{not json",
        '{"cmd": 3}',
        '{"cmd": "mo", "source": 1, "destination": "b", "text": "c"}',
        '{"cmd": "fault", "specs": "black-hole"}',
        '{"cmd": "dance"}',
        '"just a string"',
    ],
)
def test_parse_rejects(line: str) -> None:
    with pytest.raises(ConfigError):
        parse_command(line)


async def test_mo_line_injects_and_answers_ids() -> None:
    target = FakeTarget()
    answer = await handle_line(target, "mo 447700900123 12345 Hi there\n")
    assert answer is not None
    assert answer.startswith("OK ")
    assert json.loads(answer[3:]) == {"message_ids": ["m1", "m2"], "parts": 2}
    assert target.injected == [("447700900123", "12345", "Hi there", None)]


async def test_fault_lines_accumulate_and_reset() -> None:
    target = FakeTarget()
    assert await handle_line(target, "fault throttle-every=10") == 'OK "throttle-every=10"'
    assert await handle_line(target, "fault black-hole") == 'OK "black-hole throttle-every=10"'
    assert target.faults == Faults(black_hole=True, throttle_every=10)
    assert await handle_line(target, "fault none") == 'OK "none"'
    assert target.faults == Faults()
    assert await handle_line(target, "faults") == 'OK "none"'


async def test_handset_and_listing_lines() -> None:
    target = FakeTarget()
    answer = await handle_line(target, "handset 447700900123")
    assert answer is not None
    [message] = json.loads(answer[3:])
    assert message["text"] == "héllo"
    assert message["state"] == "DELIVRD"
    assert message["direction"] == "received"
    assert await handle_line(target, "handsets") == 'OK ["1","2"]'
    assert await handle_line(target, "stats") == 'OK {"submits":3}'


async def test_errors_answer_err_and_quit_answers_none() -> None:
    target = FakeTarget()
    target.refuse = True
    answer = await handle_line(target, "mo 1 2 hello")
    assert answer == "ERR no receiver is bound"
    bad = await handle_line(target, "fault explode")
    assert bad is not None
    assert bad.startswith("ERR unknown fault")
    assert target.faults == Faults()
    assert await handle_line(target, "quit") is None
    help_answer = await handle_line(target, "help")
    assert help_answer is not None
    assert "mo SOURCE DESTINATION TEXT" in help_answer
