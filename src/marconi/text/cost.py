"""What a text will cost: encoding, segments, characters, room left. Pure and fast, since it runs
on every API request and behind ``marconi segments``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from marconi.text.dcs import data_coding_for
from marconi.text.grapheme import count_characters
from marconi.text.national import ALL_LANGUAGES, NationalLanguage
from marconi.text.segment import Concatenation, EncodingMode, Unit, plan_text


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    encoding: str
    """``gsm7``, a national table name (``turkish-single``, ``portuguese-locking+…``), ``ucs2``
    or ``latin1``."""
    segments: int
    characters: int
    """Characters as a person counts them (an emoji with a skin tone is one)."""
    units: int
    """Septets (extension characters count two), UTF-16 units (emoji count two) or octets."""
    unit: Unit
    per_segment: int
    """Units one segment holds: 160/70 for a single segment, 153/67 each when concatenated,
    less for national shift tables."""
    remaining: int
    """Units that still fit in the last segment."""
    non_gsm_characters: tuple[str, ...]
    """Distinct characters outside the GSM-7 default alphabet and extension table, in order of
    first appearance: what forced a national table or UCS-2."""
    replacements: tuple[tuple[str, str], ...]
    """Smart-encoding replacements applied, as (original, replacement)."""
    locking_shift: NationalLanguage | None
    single_shift: NationalLanguage | None
    data_coding: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "encoding": self.encoding,
            "segments": self.segments,
            "characters": self.characters,
            "units": self.units,
            "unit": str(self.unit),
            "per_segment": self.per_segment,
            "remaining": self.remaining,
            "non_gsm_characters": list(self.non_gsm_characters),
            "replacements": [
                {"from": original, "to": replacement} for original, replacement in self.replacements
            ],
            "locking_shift": self.locking_shift.label if self.locking_shift else None,
            "single_shift": self.single_shift.label if self.single_shift else None,
            "data_coding": self.data_coding,
        }


def analyze(
    text: str,
    *,
    encoding: EncodingMode | str = EncodingMode.AUTO,
    smart_encoding: bool = False,
    national_languages: Iterable[NationalLanguage] = ALL_LANGUAGES,
    concatenation: Concatenation | str = Concatenation.UDH8,
) -> TextAnalysis:
    """The cost of sending ``text``, with the same choices :func:`encode_message` would make.

    Raises EncodingError when ``encoding`` is explicit and the text does not fit it.
    """
    plan = plan_text(
        text,
        encoding=encoding,
        smart_encoding=smart_encoding,
        national_languages=national_languages,
        concatenation=concatenation,
    )
    return TextAnalysis(
        encoding=plan.encoding,
        segments=plan.segments,
        characters=count_characters(plan.text),
        units=plan.units,
        unit=plan.unit,
        per_segment=plan.per_segment,
        remaining=plan.remaining,
        non_gsm_characters=plan.non_gsm_characters,
        replacements=plan.replacements,
        locking_shift=plan.locking_shift,
        single_shift=plan.single_shift,
        data_coding=data_coding_for(plan.alphabet),
    )
