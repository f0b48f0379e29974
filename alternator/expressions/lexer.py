"""Tokens of DynamoDB's expression language (shared by all five kinds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

TokenKind: TypeAlias = Literal["name", "hashname", "value", "number", "punct", "bad", "eof"]

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<hashname>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<number>[0-9]+)
  | (?P<punct><>|<=|>=|[=<>()\[\],.+\-])
    """,
    re.VERBOSE,
)

EOF_TEXT = "<EOF>"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int

    def is_keyword(self, word: str) -> bool:
        """Keywords (AND, SET, BETWEEN...) are case-insensitive."""
        return self.kind == "name" and self.text.upper() == word

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


def tokenize(text: str) -> tuple[Token, ...]:
    """Split ``text`` into tokens, ending with an ``eof`` token.

    A character that starts no token becomes a ``bad`` token, which the parser reports as a
    syntax error at that point (so earlier syntax errors are reported first).
    """
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    while pos < length:
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            tokens.append(Token("bad", text[pos], pos, pos + 1))
            pos += 1
            continue
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos, match.end()))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(Token("eof", EOF_TEXT, length, length))
    return tuple(tokens)
