"""Turning what a user typed into a structured query that never fails to parse.

The default is forgiving free text: every word is optional and ranking decides, so a long
pasted log line still finds the articles that share its rare words. On top of that, an
optional syntax for people who want control: ``"exact phrase"``, ``+required``,
``-excluded``, ``NOT word``, ``a AND b``, ``title:word``, ``error:0x80070005``, and a
filter for each facet field (``type:``, ``tag:``, ``system:``). Anything that does not parse as syntax is
searched as text: an unknown ``field:value`` is an ordinary word (``C:\\Windows``), an
unbalanced quote is ignored, and a dangling operator is dropped.

Pasted log lines carry noise that matches nothing useful: timestamps, GUIDs, IP and memory
addresses, request ids. That is removed before analysis, and in such queries bare numbers
count for less (a PID or a port is rarely what the user is after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..documents.fields import FILTER_ALIASES
from .analysis import ANALYZERS, COMPOUND

MAX_QUERY_CHARS = 2000  # pasted stack traces are cut here; the start carries the error
MAX_WORDS = 64

# Field name a user may type -> scoring fields it restricts a word to.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "heading": ("headings",),
    "headings": ("headings",),
    "body": ("body",),
    "code": ("code",),
    "error": ("error_codes",),
    "errors": ("error_codes",),
    "error_code": ("error_codes",),
}

_NOISE = re.compile(
    r"""
    \b\d{4}-\d{2}-\d{2}(?:[T\s]\d{1,2}:\d{2}(?::\d{2})?(?:[.,:]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b  # ISO date-time
    | \b\d{1,2}/\d{1,2}/\d{2,4}\b                                           # 11/02/2026
    | \b\d{1,2}:\d{2}:\d{2}(?:[.,:]\d+)?\b                                  # 09:14:33.120
    | \b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b      # GUID
    | \b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b                                  # IPv4[:port]
    | \b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b                              # IPv6 (full form)
    | \b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b                                 # MAC address
    | \b0x[0-9a-f]{9,}\b                                                    # memory address
    | \b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b                    # hash, request id
    | \[\d+\]                                                               # [pid]
    """,
    re.IGNORECASE | re.VERBOSE,
)
# A quoted phrase, an operator, or a possibly prefixed/fielded word.
_TOKEN = re.compile(
    r"""
    (?P<sign>[+-])?
    (?:(?P<field>[A-Za-z_]+):(?=["\w]))?
    (?:"(?P<phrase>[^"]*)"|(?P<word>\w+(?:[.\-/\\:@+#'’]+\w+)*))
    """,
    re.VERBOSE,
)
_NUMBER = re.compile(r"^\d+$")
NOISY_NUMBER_WEIGHT = 0.5


@dataclass(frozen=True)
class Clause:
    """One thing the user asked for: a word, with the other ways it may be written.

    ``forms[0]`` is what was typed (one word, or several when a synonym list names a
    multi-word term), or its spelling correction (then ``corrected_from`` holds the word
    typed); later forms are synonyms, or completions of a half-typed word (``prefix``).
    """

    forms: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...] | None = None  # None: every searchable field
    required: bool = False
    weight: float = 1.0
    prefix: float = 0.0  # > 0: forms[1:] are words the typed one begins, worth this much
    correctable: bool = True  # False: never spell-corrected (a ticket's names and hosts)
    corrected_from: str | None = None  # the word typed, when forms[0] is its correction

    @property
    def typed(self) -> tuple[str, ...]:
        return self.forms[0]


@dataclass(frozen=True)
class Phrase:
    text: str
    fields: tuple[str, ...] | None = None
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    phrases: tuple[Phrase, ...] = ()
    excluded: tuple[Clause, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    noisy: bool = False  # looked like a pasted log line

    @property
    def is_empty(self) -> bool:
        """Nothing to rank by: the search lists (filtered) articles instead."""
        return not self.clauses and not self.required_phrases

    @property
    def required_phrases(self) -> tuple[Phrase, ...]:
        return tuple(p for p in self.phrases if not p.excluded)

    def words(self) -> tuple[str, ...]:
        """Every positive word, typed and alternative (for highlighting)."""
        return tuple(dict.fromkeys(w for c in self.clauses for form in c.forms for w in form))

    def highlight_terms(self) -> frozenset[str]:
        """Body-field terms of the positive words, for snippets."""
        return frozenset(t.text for w in self.words() for t in ANALYZERS["prose"](w, mode="query"))

    def with_clauses(self, clauses: tuple[Clause, ...]) -> ParsedQuery:
        return replace(self, clauses=clauses)


def is_searchable(word: str) -> bool:
    """Stop words alone carry nothing: "is", "the" and "a" are not searched."""
    return any(True for _ in ANALYZERS["prose"](word, mode="query"))


def _is_exclusion(match: re.Match[str], text: str) -> bool:
    """A leading minus excludes a lowercase word typed as its own token ("-outlook").

    It does not when the word is a command-line option ("-SkipErrors", "-f"), a negative
    number (an HRESULT such as -2147467259) or glued to what precedes it ("[-1765]").
    """
    start = match.start()
    own_token = start == 0 or match.string[start - 1].isspace()
    return own_token and len(text) > 1 and text[0].isalpha() and text == text.lower()


def remove_noise(text: str) -> str:
    """Text without the parts of log lines that match nothing useful (times, GUIDs, IPs...)."""
    return _NOISE.sub(" ", text)


def parse(text: str) -> ParsedQuery:
    """Parse what a user typed. Never raises: malformed syntax is read as plain text."""
    text = text[:MAX_QUERY_CHARS]
    cleaned = remove_noise(text)
    noisy = cleaned != text
    clauses: list[Clause] = []
    excluded: list[Clause] = []
    phrases: list[Phrase] = []
    filters: dict[str, list[str]] = {}
    negate_next = require_prev_and_next = False

    for match in _TOKEN.finditer(cleaned):
        sign, fieldname, phrase, word = match.group("sign", "field", "phrase", "word")
        if word in ("AND", "OR", "NOT") and not sign and not fieldname:
            if word == "NOT":
                negate_next = True
            elif word == "AND" and clauses:
                clauses[-1] = replace(clauses[-1], required=True)
                require_prev_and_next = True
            continue
        # "-outlook" excludes, but "-SkipErrors" or "-f" is a command-line option to find
        negative = negate_next or (sign == "-" and _is_exclusion(match, word or phrase or ""))
        required = sign == "+" or require_prev_and_next
        negate_next = require_prev_and_next = False
        key = (fieldname or "").lower()

        if key in FILTER_ALIASES and not negative:
            value = phrase if phrase is not None else word
            if value and value.strip():
                filters.setdefault(FILTER_ALIASES[key], []).append(value.strip())
            continue
        fields = FIELD_ALIASES.get(key)
        if fieldname and fields is None:  # not syntax: "C:\Windows", "sap:Active"
            word = match.group()[len(sign or "") :] if phrase is None else None
            if phrase is not None:
                phrase = f"{fieldname} {phrase}"
        if phrase is not None:
            if phrase.strip():
                phrases.append(Phrase(phrase.strip(), fields, excluded=negative))
            continue
        if not word or not is_searchable(word):
            continue
        clause = Clause(forms=((word,),), fields=fields, required=required)
        if noisy and _NUMBER.match(word):
            clause = replace(clause, weight=NOISY_NUMBER_WEIGHT)
        (excluded if negative else clauses).append(clause)

    for phrase in phrases:  # a phrase's words rank like any others; the phrase filters
        if not phrase.excluded:
            clauses += [
                Clause(forms=((w,),), fields=phrase.fields)
                for w in COMPOUND.findall(phrase.text)
                if is_searchable(w)
            ]
    unique: dict[tuple, Clause] = {}
    for clause in clauses:  # a repeated word counts once, as first written
        unique.setdefault((clause.typed[0].lower(), clause.fields), clause)
    return ParsedQuery(
        clauses=tuple(unique.values())[:MAX_WORDS],
        phrases=tuple(phrases[:MAX_WORDS]),
        excluded=tuple(excluded[:MAX_WORDS]),
        filters={name: tuple(values) for name, values in filters.items()},
        noisy=noisy,
    )
