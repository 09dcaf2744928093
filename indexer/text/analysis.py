"""Analyzers for support text: prose is stemmed, identifiers are kept whole *and* split.

Support engineers search with things general-purpose analyzers mangle: ``0x80070005``,
``ERROR_ACCESS_DENIED``, ``etcdHighFsyncDurations``, ``/etc/krb5.conf``, ``ORA-12154``,
``KB5034441``. Every analyzer here starts from :class:`CompoundTokenizer`, which keeps
such a run of characters together as one token, and :class:`IdentifierFilter`, which emits
the whole identifier (normalised) followed by its parts. So ``ERROR_ACCESS_DENIED`` is
findable as itself and by ``access denied``, and the exact form, being rare, scores higher.

Named analyzers are built once in :data:`ANALYZERS`; the schema refers to them by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import (
    STOP_WORDS,
    Analyzer,
    Filter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang.porter import stem

# A compound token: word characters joined by the punctuation identifiers are made of.
# Leading and trailing punctuation is not part of the token ("(0x80070005)." -> "0x80070005").
JOINERS = ".-/\\:@+#'’"  # join words into one compound token: C:\Windows, 0x8007.dll
COMPOUND = re.compile(rf"\w+(?:[{re.escape(JOINERS)}]+\w+)*", re.UNICODE)
_DELIMITERS = re.compile(r"[.\-/\\:@+#'’_]+")
# camelCase and acronym boundaries: "etcdHighFsync" -> etcd|High|Fsync, "HTTPServer" -> HTTP|Server
# A word keeps a short version number: krb5, ipv4, win32 (but KB5034441 -> KB|5034441).
_CAMEL = re.compile(
    r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+(?:\d{1,2}(?!\d))?|[A-Z]+|\d+|[^\W\d_]+", re.UNICODE
)
# A long run of digits after letters is a number worth finding alone: KB5034441, ORA12154.
_LETTERS_THEN_NUMBER = re.compile(r"^([^\W\d_]+)(\d{3,})$", re.UNICODE)
_HEX = re.compile(r"^0x([0-9a-f]+)$")

MAX_TOKEN_CHARS = 120  # longer "words" are base64 blobs or minified code: not searchable text


def normalise(text: str) -> str:
    """Lowercase, drop apostrophes (isn't == isnt) and write hex numbers without their
    prefix so 0x80070005 == 80070005."""
    text = text.lower().replace("'", "").replace("’", "")
    match = _HEX.match(text)
    return match.group(1) if match else text


def split_identifier(word: str) -> list[tuple[int, str]]:
    """Split an identifier into (offset, part) pairs on punctuation, case changes and numbers.

    >>> split_identifier("etcdHighFsyncDurations")
    [(0, 'etcd'), (4, 'High'), (8, 'Fsync'), (13, 'Durations')]
    """
    parts: list[tuple[int, str]] = []
    start = 0
    for piece in _DELIMITERS.split(word):
        offset = word.find(piece, start) if piece else start
        start = offset + len(piece)
        if not piece:
            continue
        if _HEX.match(piece.lower()):
            parts.append((offset, piece))
            continue
        for sub in _CAMEL.finditer(piece):
            sub_text = sub.group()
            tail = _LETTERS_THEN_NUMBER.match(sub_text)
            if tail:
                parts.append((offset + sub.start(), tail.group(1)))
                parts.append((offset + sub.start() + len(tail.group(1)), tail.group(2)))
            else:
                parts.append((offset + sub.start(), sub_text))
    return parts


class CompoundTokenizer(Tokenizer):
    """Yields runs like ``ERROR_ACCESS_DENIED`` or ``/etc/krb5.conf`` as single tokens."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in COMPOUND.finditer(value):
            token.text = match.group()
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


@lru_cache(maxsize=500_000)
def _word_terms(word: str) -> tuple[tuple[int, int, str], ...]:
    """(start offset, end offset, term) for a word: the whole normalised form, then its parts.

    Cached: a knowledge base's vocabulary repeats, so most words are analysed once.
    """
    whole = ((0, len(word), normalise(word)),)
    plain = word.replace("'", "").replace("’", "")  # isn't, user's: one word
    if (plain.isalpha() and (plain.islower() or plain[1:].islower())) or word.isdigit():
        return whole  # the common case: a plain word has no parts
    parts = split_identifier(word)
    if len(parts) <= 1:
        return whole
    # a lone letter or a short number ("5" of krb5, "2" of 2FA) would match nearly everything
    return whole + tuple(
        (offset, offset + len(part), normalise(part))
        for offset, part in parts
        if len(part) >= (3 if part.isdigit() else 2)
    )


class IdentifierFilter(Filter):
    """Emit each compound token whole (normalised), then its parts at following positions.

    Plain words pass through unchanged apart from lowercasing. Over-long tokens are dropped.
    """

    is_morph = False

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        shift = 0  # extra positions taken by parts of earlier identifiers
        for token in tokens:
            original = token.text
            if len(original) > MAX_TOKEN_CHARS:
                continue
            pieces = _word_terms(original)
            base_pos = token.pos + shift if token.positions else 0
            base_char = token.startchar if token.chars else 0
            for index, (start, end, text) in enumerate(pieces):
                token.text = text
                if token.positions:
                    token.pos = base_pos + max(0, index - 1)
                if token.chars:
                    token.startchar, token.endchar = base_char + start, base_char + end
                yield token
            shift += max(0, len(pieces) - 2)


_cached_stem = lru_cache(maxsize=50_000)(stem)


class ProseStemFilter(StemFilter):
    """Stem plain words only: identifiers and numbers must match exactly."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.stopped and token.text.isalpha():
                token.text = _cached_stem(token.text)
            yield token


class WholeWordFilter(Filter):
    """Normalise each compound token without splitting it: pairs are of whole words."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if len(token.text) <= MAX_TOKEN_CHARS:
                token.text = normalise(token.text)
                yield token


class PairFilter(Filter):
    """Emit each two neighbouring words (after stop words are gone) as one term "a b".

    Matching a pair rewards documents where the query's words stand together, as in
    its title, over documents that merely contain them somewhere.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        previous: str | None = None
        for token in tokens:
            if token.stopped:
                continue
            current = token.text
            if previous is not None:
                token.text = f"{previous} {current}"
                yield token
            previous = current


def _stemmed_prose(words: Filter) -> Analyzer:
    """Compound tokens made into ``words``, then stop words removed and words stemmed."""
    return (
        CompoundTokenizer()
        | words
        | StopFilter(STOP_WORDS, minsize=1, renumber=False)
        | ProseStemFilter(cachesize=0)  # it stems with _cached_stem
    )


@lru_cache(maxsize=200_000)
def prose_token_terms(token: str) -> frozenset[str]:
    """What the prose analyzer makes of one :data:`COMPOUND` token, stop words kept
    (unstemmed, as the analyzer leaves them), without Whoosh's pipeline of generators:
    snippets look up every distinct word of each article shown, and through the pipeline
    that was the largest part of a search's time."""
    if len(token) > MAX_TOKEN_CHARS:
        return frozenset()
    return frozenset(
        term if term in STOP_WORDS or not term.isalpha() else _cached_stem(term)
        for _start, _end, term in _word_terms(token)
    )


def prose_analyzer() -> Analyzer:
    """Title, headings and body text: identifiers split, stop words removed, words stemmed."""
    return _stemmed_prose(IdentifierFilter())


def identifier_analyzer() -> Analyzer:
    """Code blocks and error codes: identifiers split, but nothing stemmed or stopped."""
    return CompoundTokenizer() | IdentifierFilter()


def pair_analyzer() -> Analyzer:
    """Neighbouring word pairs of prose, stemmed and without stop words."""
    return _stemmed_prose(WholeWordFilter()) | PairFilter()


ANALYZERS = {
    "prose": prose_analyzer(),
    "identifier": identifier_analyzer(),
    "pairs": pair_analyzer(),
}


def terms(text: str, analyzer: str = "prose") -> list[str]:
    """The index terms an analyzer makes of ``text`` (for tests and query building)."""
    return [t.text for t in ANALYZERS[analyzer](text, mode="query")]
