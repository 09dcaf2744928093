"""What a query means, in one order: exact things, then synonyms, then spelling, then the
half-typed last word. Every step looks only at articles the caller may see.

1. **Exact things.** A query that is an article's id or alias (any case, with or without
   the dash: ``kb1022``) or a ticket id that articles name puts those articles first.
2. **Synonyms.** A word of a synonym group is a known word: it is never corrected, and a
   group member of several words counts only where those words stand together.
3. **Spelling**, for single words that no visible article holds and that are not the
   beginning of one.
4. **The last word as a prefix**, as the search box sends it while someone types (the
   text ends in a letter, digit, _ or -; see :func:`half_typed`): the last word stands for
   itself and the words it begins (``outlo``: ``outlook``; ``0x8007``: ``0x80070005``),
   scored as one term by :meth:`~indexer.search.ranking.Snapshot.prefix_score`, so results
   narrow steadily instead of emptying out; it is never "corrected" then. A last word of
   one or two characters after others is not searched yet (``network p`` answers as
   ``network``).
5. **Meaning**: the text a query's meaning vector is taken from (see
   :func:`meaning_text`), the query as corrected, without a half-typed last word that no
   visible article holds (``outlo`` says nothing yet; ``wifi`` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..documents.schema import exact_key
from ..text.analysis import ANALYZERS
from ..text.query import Clause, ParsedQuery
from ..text.synonyms import Synonyms
from .ranking import SCORED_FIELDS, WORD_FIELDS, Snapshot
from .spelling import corrections

MIN_PREFIX = 3  # letters typed before the last word is completed
PREFIX_WEIGHT = 0.6  # a completion of a last word no article holds, against a whole word
KNOWN_PREFIX_WEIGHT = 0.8  # a completion of a word typed alone that is a word itself
KNOWN_PREFIX_WEIGHT_AFTER_WORDS = 0.3  # the same after other words, which say more
MAX_PREFIX_SCAN = 400  # terms read from the vocabulary for one prefix
MAX_COMPLETIONS = 16  # of those, the ones in most visible articles
MAX_CONTEXT_WORDS = 6  # words before the last one that choose among its completions
# field -> how a typed word becomes a prefix of its terms: words, then identifiers
PREFIX_FIELDS = {"spelling": "spelling", "error_codes": "identifier", "code": "identifier"}
_TICKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


@dataclass(frozen=True)
class Rewritten:
    parsed: ParsedQuery
    corrected: str | None  # the query with misspellings fixed ("did you mean"), if any
    exact: tuple[int, ...] = ()  # documents the query names exactly (an id, a ticket)


def half_typed(text: str) -> bool:
    """Whether the last word of ``text``, as typed into the search box, may be unfinished:
    it ends the text (a space, "?" or "." after it says it is finished)."""
    return bool(text) and (text[-1].isalnum() or text[-1] in "_-")


def exact_documents(snapshot: Snapshot, text: str, visible: np.ndarray) -> tuple[int, ...]:
    """Visible documents whose id or alias is the whole query, or that name it as a ticket
    (two term lookups: the index keeps every name's :func:`exact_key`)."""
    key = exact_key(text)
    if len(key) < 2 or len(text) > 100:
        return ()
    ticket = text.strip().lower()
    wanted = [("exact_refs", key)]
    if _TICKET.fullmatch(ticket):  # one plain token: INC-21140, not any text
        wanted.append(("tickets", ticket))
    found: dict[int, None] = {}  # in order: named by id first, then as a ticket
    for ids, _ in snapshot.postings_of(wanted):  # together: each lookup visits every segment
        found.update((int(d), None) for d in ids if visible[d])
    return tuple(found)


def _context(snapshot: Snapshot, others: list[Clause], visible: np.ndarray) -> np.ndarray:
    """The visible documents matching any of the words typed before the last one (all
    visible ones if none, or too many to be worth scoring twice)."""
    if not others or len(others) > MAX_CONTEXT_WORDS:
        return visible
    matching = np.logical_or.reduce([snapshot.clause_score(c) > 0 for c in others]) & visible
    return matching if matching.any() else visible


def completions(snapshot: Snapshot, word: str, visible: np.ndarray) -> list[str]:
    """Words and identifiers that ``word`` begins, in most ``visible`` documents first
    (bounded); ``visible`` may be narrowed to the documents the other words match, so
    that "default res" completes to "resource" where those words stand."""
    candidates: list[tuple[str, str]] = []  # (field, term), looked up together
    for fieldname, analyzer in PREFIX_FIELDS.items():
        # the spelling field keeps words as written; identifiers are kept analysed (0x8007
        # is 8007 there)
        if analyzer == "spelling":
            prefix = word.lower()
        else:
            prefix = next((t.text for t in ANALYZERS[analyzer](word, mode="query")), "")
        if len(prefix) < MIN_PREFIX:
            continue
        for text in snapshot.terms_beginning(fieldname, prefix, MAX_PREFIX_SCAN):
            if text != prefix:
                candidates.append((fieldname, text))
    counted: dict[str, int] = {}  # a term in several fields counts where first seen
    for (_, text), seen in zip(candidates, snapshot.seen_counts(candidates, visible), strict=True):
        if seen and text not in counted:
            counted[text] = seen
    best = sorted(counted, key=lambda t: (-counted[t], t))
    return best[:MAX_COMPLETIONS]


def _plain(clause: Clause) -> bool:
    """A clause of one word as typed: not a synonym group, nor restricted to a field."""
    return clause.fields is None and len(clause.typed) == 1 and len(clause.forms) == 1


def _correctable(clause: Clause) -> bool:
    """A plain clause (:func:`_plain`) whose word may be corrected."""
    return _plain(clause) and clause.correctable


def _just_begun(clause: Clause) -> bool:
    """A last word of one or two characters, not a synonym: too short to complete."""
    return len(clause.forms) == 1 and len(clause.typed) == 1 and len(clause.typed[0]) < MIN_PREFIX


def rewrite(
    snapshot: Snapshot,
    parsed: ParsedQuery,
    text: str,
    visible: np.ndarray,
    synonyms: Synonyms,
    last_is_prefix: bool,
) -> Rewritten:
    """Steps 1-4 above, for a query that parsed to ``parsed``."""
    exact = exact_documents(snapshot, text, visible)
    expanded = synonyms.expand(parsed)
    clauses = list(expanded.clauses)
    if last_is_prefix and len(clauses) > 1 and _just_begun(clauses[-1]):
        clauses.pop()  # "network p": the p is being typed; answer for "network" meanwhile
    last = len(clauses) - 1
    changed = text
    being_typed = last if last_is_prefix and not exact else None
    # every word's correction, looked up together; a half-typed last word's only if it has
    # no completion (below)
    typed = [c.typed[0] for i, c in enumerate(clauses) if _correctable(c) and i != being_typed]
    fixes = corrections(snapshot, typed, visible)
    for i, clause in enumerate(clauses):
        if not _plain(clause):
            continue  # a synonym group member, or restricted to a field: leave it
        word = clause.typed[0]
        if i == being_typed:
            # a word that visible articles hold may still be the start of a longer one
            # ("post" of "postgresql"): its completions count, but for less
            whole = holds(snapshot, word, visible)
            # a whole word is completed only when typed alone: after other words, those
            # tell what is meant; they also choose among completions (see completions)
            others = [c for c in clauses[:i] if c.fields is None]
            context = _context(snapshot, others, visible)
            completed = completions(snapshot, word, context)
            if completed:
                weight = (
                    PREFIX_WEIGHT
                    if not whole
                    else KNOWN_PREFIX_WEIGHT
                    if i == 0
                    else (KNOWN_PREFIX_WEIGHT_AFTER_WORDS)
                )
                clauses[i] = replace(
                    clause, forms=(clause.typed, *((c,) for c in completed)), prefix=weight
                )
                continue
            if whole or not clause.correctable:
                continue
            fixes |= corrections(snapshot, [word], visible)
        fixed = fixes.get(word) if clause.correctable else None
        if fixed:
            pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
            changed = re.sub(pattern, fixed, changed, flags=re.IGNORECASE)
            clauses[i] = replace(clause, forms=((fixed,),), corrected_from=word)
    corrected = changed if changed != text else None
    return Rewritten(expanded.with_clauses(tuple(clauses)), corrected, exact)


def holds(snapshot: Snapshot, word: str, visible: np.ndarray) -> bool:
    """Whether some visible article holds ``word`` whole, in any field it is searched in."""
    wanted = []
    for name in WORD_FIELDS:
        analyzer = ANALYZERS[SCORED_FIELDS[name].analyzer]
        term = next((t.text for t in analyzer(word, mode="query")), None)
        if term:
            wanted.append((name, term))
    return any(snapshot.seen_counts(wanted, visible))


def meaning_text(snapshot: Snapshot, text: str, visible: np.ndarray, last_is_prefix: bool) -> str:
    """Step 5 above, for the query ``text`` (as corrected, if it was)."""
    words = text.split()
    if last_is_prefix and half_typed(text) and words and not holds(snapshot, words[-1], visible):
        words.pop()
    return " ".join(words)
