"""``marconi segments``: what a text costs as an SMS — encoding, segments, characters, room left."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from marconi.errors import EncodingError
from marconi.text.cost import TextAnalysis, analyze
from marconi.text.national import ALL_LANGUAGES, NationalLanguage
from marconi.text.segment import Concatenation, EncodingMode

_UNIT_NAMES = {"septet": "septets", "utf16": "UTF-16 units", "octet": "octets"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "segments",
        help="show the encoding and number of segments a text needs",
        description=(
            "Show how a text would be sent as SMS: encoding, segments, characters, what is left "
            "in the last segment, and which characters forced UCS-2. Reads standard input when "
            "TEXT is omitted or '-' (one final newline there is dropped)."
        ),
    )
    parser.add_argument("text", nargs="?", default="-", metavar="TEXT")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument(
        "--encoding",
        choices=[mode.value for mode in EncodingMode],
        default=EncodingMode.AUTO.value,
        help="auto (default), gsm7 (7-bit only), ucs2 or latin1",
    )
    parser.add_argument(
        "--smart",
        action="store_true",
        help="replace typographic look-alikes (curly quotes, dashes, …) when that makes it GSM-7",
    )
    parser.add_argument(
        "--national",
        default="all",
        metavar="LANGS",
        help="national shift tables allowed: all (default), none, or names (turkish,spanish,…)",
    )
    parser.add_argument(
        "--concatenation",
        choices=[method.value for method in Concatenation],
        default=Concatenation.UDH8.value,
        help="how parts are joined: udh8 (default), udh16 or sar",
    )
    parser.set_defaults(func=run)


def _languages(value: str) -> tuple[NationalLanguage, ...]:
    if value.strip().lower() == "all":
        return ALL_LANGUAGES
    if value.strip().lower() == "none":
        return ()
    return tuple(NationalLanguage.from_label(name) for name in value.split(",") if name.strip())


def _read_text(argument: str) -> str:
    if argument != "-":
        return argument
    data = sys.stdin.buffer.read()
    text = data.decode("utf-8")
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _codepoint(char: str) -> str:
    return f"{char} (U+{ord(char):04X})" if char.isprintable() else f"U+{ord(char):04X}"


def _human(analysis: TextAnalysis) -> str:
    unit = _UNIT_NAMES[analysis.unit]
    segment_word = "segment" if analysis.segments == 1 else "segments"
    lines = [
        f"encoding:    {analysis.encoding} (data_coding 0x{analysis.data_coding:02X})",
        f"segments:    {analysis.segments} {segment_word} of up to {analysis.per_segment} {unit}",
        f"characters:  {analysis.characters}",
        f"length:      {analysis.units} {unit}",
        f"remaining:   {analysis.remaining} {unit} left in the last segment",
    ]
    if analysis.non_gsm_characters:
        lines.append(
            "not in GSM-7: " + ", ".join(_codepoint(char) for char in analysis.non_gsm_characters)
        )
    if analysis.replacements:
        pairs = ", ".join(
            f"{_codepoint(original)} → {replacement!r}"
            for original, replacement in analysis.replacements
        )
        lines.append(f"replaced:    {pairs}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        text = _read_text(args.text)
    except UnicodeDecodeError as exc:
        print(
            f"marconi segments: standard input is not valid UTF-8 (octet {exc.start})",
            file=sys.stderr,
        )
        return 1
    try:
        languages = _languages(args.national)
        analysis = analyze(
            text,
            encoding=args.encoding,
            smart_encoding=args.smart,
            national_languages=languages,
            concatenation=args.concatenation,
        )
    except (EncodingError, ValueError) as exc:
        print(f"marconi segments: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(analysis.to_dict(), ensure_ascii=False))
    else:
        print(_human(analysis))
    return 0
