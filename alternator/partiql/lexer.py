"""Tokens of DynamoDB's PartiQL dialect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from alternator.errors import ValidationException

TokenKind: TypeAlias = Literal["word", "quoted", "string", "number", "punct", "eof"]

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+|--[^\n]*|/\*.*?\*/)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<punct><<|>>|<>|!=|<=|>=|[=<>()\[\]{},.:;*?+\-])
    """,
    re.VERBOSE | re.DOTALL,
)

MALFORMED = "Statement wasn't well formed, can't be processed: "


def malformed(detail: str) -> ValidationException:
    """DynamoDB's error for a statement it cannot parse."""
    return ValidationException(MALFORMED + detail)


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # a quoted name or string without its quotes, unescaped
    start: int

    def is_word(self, *words: str) -> bool:
        """Keywords are case-insensitive; a quoted name is never a keyword."""
        return self.kind == "word" and self.text.upper() in words

    def is_punct(self, *texts: str) -> bool:
        return self.kind == "punct" and self.text in texts

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of statement"
        if self.kind == "quoted":
            return f'"{self.text}"'
        if self.kind == "string":
            return f"'{self.text}'"
        return self.text


def tokenize(text: str) -> tuple[Token, ...]:
    """Split a statement into tokens, ending with an ``eof`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            if text.startswith("/*", pos):
                raise malformed("Unterminated comment")
            if text[pos] in "'\"":
                raise malformed("Unterminated quoted text")
            raise malformed(f"Unexpected character '{text[pos]}'")
        kind = match.lastgroup
        value = match.group()
        if kind == "quoted":
            tokens.append(Token("quoted", value[1:-1].replace('""', '"'), pos))
        elif kind == "string":
            tokens.append(Token("string", value[1:-1].replace("''", "'"), pos))
        elif kind != "ws":
            tokens.append(Token(kind, value, pos))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tuple(tokens)
