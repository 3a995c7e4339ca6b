"""The text rule for everything a client sends: which characters Leadflow refuses to keep.

One rule, applied wherever client text enters (form fields and context, tracking events, their
property names and every string nested in their properties), so that nothing invisible or
unencodable is stored verbatim and shown later to a marketer, a CRM or an email client:

- NUL and the other C0 controls, DEL and the C1 controls are refused; tab is allowed everywhere,
  line breaks (LF, CR) only in multi-line text (a textarea, free-form tracking properties);
- the bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) are
  refused: they make text display in an order other than the one stored ("Trojan Source");
  the plain marks U+200E/U+200F that right-to-left writers type are allowed;
- lone surrogates (U+D800-U+DFFF, which JSON's ``\\ud800`` escapes can produce) are refused: they
  cannot be encoded as UTF-8, so no store could keep them.

Refusing, rather than stripping, keeps the rule honest: the client learns which field was wrong.
"""

from __future__ import annotations

import re

_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_SINGLE_LINE = re.compile(f"[{_ALWAYS}\n\r]")
_MULTI_LINE = re.compile(f"[{_ALWAYS}]")

#: Identifiers a client chooses (anonymous ids, event ids) become parts of storage keys and ids:
#: plain ASCII and short, so every key built from them stays far below DynamoDB's key size limits.
IDENTIFIER = re.compile(r"[A-Za-z0-9._:-]{1,128}")
IDENTIFIER_RULE = "1 to 128 letters, digits, dots, colons, dashes or underscores"

_NAMES = {
    "\n": "a line break",
    "\r": "a line break",
    "\x00": "a NUL character",
}


def _describe(character: str) -> str:
    code = ord(character)
    if character in _NAMES:
        name = _NAMES[character]
    elif 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        name = "a bidirectional control character"
    elif 0xD800 <= code <= 0xDFFF:
        name = "a lone surrogate"
    else:
        name = "a control character"
    return f"must not contain {name} (U+{code:04X})"


def problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be kept, or None when it follows the rule."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return _describe(found.group()) if found else None


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None
