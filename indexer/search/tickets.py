"""A ticket's subject and description -> the weighted query that finds the article resolving it.

Everything a ticket says is searched, each word weighted by what it is worth, instead of a
few "rare" words (which kept names, hosts and signatures, rare by accident). Ranking's IDF
already tells "please" from ``0x80070005``; what it cannot know is where in a ticket a word
stands, so that is weighed here, by a general reading of how help-desk mail is written:

- the **subject** is the asker's own summary of the problem: its words count most;
- **repetition** counts, but less and less (a word said three times is not three words);
- **greetings, sign-offs, signatures and disclaimers** say nothing of the problem, and
  **quoted earlier mail** says less than the new text, so they are dropped or discounted;
- **pasted log and dialog lines** keep their words (the error text is often the best clue)
  but lose what :func:`indexer.text.query.remove_noise` removes: times, GUIDs, addresses.

The result is a :class:`~indexer.text.query.ParsedQuery` with one optional clause per distinct
word: it goes to ranking as it is, so no ticket word is ever read as query syntax.
"""

from __future__ import annotations

import math
import re

from ..text.analysis import COMPOUND
from ..text.query import Clause, ParsedQuery, is_searchable, remove_noise

MAX_TICKET_CHARS = 200_000
SUBJECT_CHARS = 400
MAX_TICKET_WORDS = 400  # distinct words searched: bounded work for pasted pages of logs
SUBJECT_WEIGHT = 3.0
QUOTED_WEIGHT = 0.3  # earlier mail quoted below the new text
MAX_WORD_WEIGHT = 4.0  # a subject word said again, or a word said many times, stops here

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b[^.!?\n]{0,40}[,!.]?\s*$",
    re.IGNORECASE,
)
# a line that ends the message: what follows is a name, a title, phone numbers, a disclaimer
_SIGN_OFF = re.compile(
    r"^\s*(?:thanks?|thank you|many thanks|thx|cheers|regards|kind regards|best regards|"
    r"best wishes|best|br|sincerely|yours|sent from my)\b[^.?\n]{0,40}$",
    re.IGNORECASE,
)
# where quoted earlier mail begins: a separator, "On ... wrote:", or a header block
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:original|forwarded) message\s*-{2,}|on .{4,120} wrote:)\s*$",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^\s*from:\s.+$", re.IGNORECASE)
_NEXT_HEADER = re.compile(r"^\s*(?:sent|date|to):\s", re.IGNORECASE)
_DISCLAIMER = re.compile(r"\b(?:confidential|intended solely|intended only|disclaimer)\b", re.I)
_SIGNATURE_LINES = 8  # a sign-off this close to the end of the new text starts a signature


def _quote_starts(lines: list[str], number: int) -> bool:
    """Whether quoted mail begins at line ``number`` (a "From:" line alone may be a log's)."""
    line = lines[number]
    if _QUOTE_START.match(line):
        return True
    following = lines[number + 1] if number + 1 < len(lines) else ""
    return bool(_HEADER.match(line) and _NEXT_HEADER.match(following))


def _weighed_lines(description: str) -> list[tuple[str, float]]:
    """The description's lines with the weight of their words (0: not about the problem)."""
    lines = description.splitlines()
    quoted_from = next((i for i, line in enumerate(lines) if _quote_starts(lines, i)), len(lines))
    sign_off = next(
        (
            i
            for i in range(quoted_from - 1, max(quoted_from - _SIGNATURE_LINES, 0) - 1, -1)
            if _SIGN_OFF.match(lines[i])
        ),
        quoted_from,
    )
    weighed = []
    for number, line in enumerate(lines):
        if number >= quoted_from or line.lstrip().startswith(">"):
            weight = QUOTED_WEIGHT
        elif number >= sign_off or _DISCLAIMER.search(line) or _GREETING.match(line):
            weight = 0.0
        else:
            weight = 1.0
        weighed.append((line, weight))
    return weighed


def _saturated(total: float) -> float:
    """Weight of a word said ``total`` times (counting discounted lines for less)."""
    return 1 + math.log(total) if total >= 1 else total


def ticket_query(subject: str, description: str) -> ParsedQuery:
    """The weighted query for a ticket: one optional clause per distinct word."""
    in_subject: set[str] = set()
    said: dict[str, float] = {}  # word -> weighted count in the description
    spelling: dict[str, str] = {}

    def words(text: str) -> list[str]:
        found = []
        for word in COMPOUND.findall(remove_noise(text)):
            key = word.lower()
            if key not in spelling:
                if len(spelling) >= MAX_TICKET_WORDS or not is_searchable(word):
                    continue
                spelling[key] = word
            found.append(key)
        return found

    in_subject.update(words(subject[:SUBJECT_CHARS]))
    for line, weight in _weighed_lines(description[:MAX_TICKET_CHARS]):
        if weight:
            for key in words(line):
                said[key] = said.get(key, 0.0) + weight
    clauses = []
    for key, word in spelling.items():
        weight = SUBJECT_WEIGHT * (key in in_subject) + _saturated(said.get(key, 0.0))
        if weight:
            # the subject's words may be misspelt; the description's names and hosts are
            # not misspellings of article words
            clauses.append(
                Clause(
                    forms=((word,),),
                    weight=min(weight, MAX_WORD_WEIGHT),
                    correctable=key in in_subject,
                )
            )
    return ParsedQuery(clauses=tuple(clauses))
