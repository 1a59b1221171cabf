"""Values shown where a control character would act: a terminal, a log line, the audit trail.

A value read from a file or a request may hold an escape sequence (which clears or recolours a
terminal, or makes a link), a line break (which forges a row of a listing) or a direction mark
(which shows the text reversed). `escape_controls` writes each as its escape instead.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

# C0 and C1 controls, DEL, and the Unicode line breaks and direction marks: what a terminal or a
# log reads as commands or new lines, not text (U+2028 split a listed row, U+202E reversed it,
# an ESC sequence in an outcome file's phase cleared the screen `review` printed on)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with each `_CONTROL` character but those in ``keep`` written as its escape
    (``\x1b``, ``\x0a``, ``\u202e``): shown on a terminal or kept in a log line, a value can
    neither drive the terminal nor forge a line of its own."""
    if text.isprintable():
        return text

    def escaped(found: re.Match[str]) -> str:
        character = found.group()
        if character in keep:
            return character
        code = ord(character)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(escaped, text)
