"""Smart encoding: typographic look-alikes replaced by GSM characters.

Word processors and phones turn ``"`` into ``“ ”``, ``'`` into ``’`` and ``-`` into ``–``; any one
of them pushes a message from GSM-7 (160 characters a segment) to UCS-2 (70). Replacing them keeps
the text as a reader sees it. Only punctuation, dashes and spaces are touched, never letters, and
the caller applies the result only when it then fits GSM-7 entirely (see
:func:`marconi.text.segment.plan_text`).
"""

from __future__ import annotations

from typing import Final

_REPLACEMENTS: Final[dict[str, str]] = {
    # single quotes, primes, modifier letters that look like apostrophes
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u2035": "'",  # ‵
    "\u02b9": "'",  # ʹ
    "\u02bb": "'",  # ʻ
    "\u02bc": "'",  # ʼ
    "\u02bd": "'",  # ʽ
    "\u02c8": "'",  # ˈ
    "\u02ca": "'",  # ˊ
    "\u02cb": "'",  # ˋ
    "\u00b4": "'",  # ´
    "`": "'",
    "\uff07": "'",  # fullwidth apostrophe
    # double quotes
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u2036": '"',  # ‶
    "\u02dd": '"',  # ˝
    "\u02ee": '"',  # ˮ
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u301d": '"',  # 〝
    "\u301e": '"',  # 〞
    "\uff02": '"',  # fullwidth quotation mark
    "\u2039": "<",  # ‹
    "\u203a": ">",  # ›
    # dashes and hyphens
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2043": "-",  # hyphen bullet
    "\u2212": "-",  # minus sign
    "\ufe63": "-",  # small hyphen-minus
    "\uff0d": "-",  # fullwidth hyphen-minus
    # other punctuation
    "\u2026": "...",  # …
    "\u2024": ".",  # one dot leader
    "\u2025": "..",  # two dot leader
    "\u2044": "/",  # fraction slash
    "\u2215": "/",  # division slash
    "\u204e": "*",  # low asterisk
    "\u2217": "*",  # asterisk operator
    "\u02c6": "^",  # modifier circumflex
    "\u02dc": "~",  # small tilde
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    # spaces
    "\t": " ",
    "\u00a0": " ",  # no-break space
    "\u1680": " ",
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",
    "\u3000": " ",  # ideographic space
    # invisible characters that only cost units
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero width no-break space / BOM
}

SMART_REPLACEMENTS: Final = dict(_REPLACEMENTS)
"""Look-alike → GSM replacement (an empty replacement deletes the character)."""

_TABLE: Final = str.maketrans(_REPLACEMENTS)


def smarten(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``text`` with look-alikes replaced, and the distinct (original, replacement) pairs applied,
    in order of first appearance. The result is not checked against any alphabet."""
    replaced = text.translate(_TABLE)
    if replaced == text:
        return text, ()
    applied = tuple(
        (char, _REPLACEMENTS[char]) for char in dict.fromkeys(text) if char in _REPLACEMENTS
    )
    return replaced, applied
