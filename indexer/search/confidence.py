"""How well the best result matches, so that "nothing fits" can be said.

A result list is never empty just because the words are loose: "the coffee machine shows
error E42" shares "error" and "shows" with many articles. What tells a real answer from a
loose one is how much of the query's weight the best result covers, each word weighted by
how rare it is among the articles the caller may see (a word no article holds weighs
most). ``strong``: the best result covers most of it (or the query named an article
exactly); ``weak``: some; ``none``: nothing, or too little to call a match.

Separately, an error code or identifier that no visible article contains is named, so the
reader learns that the code itself was not found, whatever else matched.
"""

from __future__ import annotations

import re

import numpy as np

from ..text.query import ParsedQuery
from .ranking import Ranked, Snapshot, idf
from .rewrite import holds

STRONG = 0.6  # share of the query's weight the best result covers
WEAK = 0.3
MATCHES = ("strong", "weak", "none")
# an identifier: has a digit, an underscore or an inner capital (0x80070005, KRB_AP_ERR,
# etcdHighFsyncDurations), and is long enough to be one
_IDENTIFIER = re.compile(r"^(?=.{4,})(?=.*(?:\d|_|[a-z][A-Z])).*$")


def match_strength(
    snapshot: Snapshot,
    parsed: ParsedQuery,
    ranked: Ranked,
    best: int | None,
    exact: bool,
    not_found: tuple[str, ...],
) -> str:
    """``strong``, ``weak`` or ``none`` for the best result ``best`` of ``ranked``; a code
    in ``not_found`` counts as not covered, whatever its parts matched."""
    if exact:
        return "strong"
    if best is None or not ranked.clause_hits:
        return "none"
    population = snapshot.population
    count = max(snapshot.count, 1)
    total = covered = 0.0
    for clause, hits in zip(parsed.clauses, ranked.clause_hits, strict=True):
        found = hits & population if clause.typed[0] not in not_found else hits & False
        df = int(np.count_nonzero(found))
        weight = idf(count, df)
        total += weight
        if found[best]:
            covered += weight
    share = covered / total if total else 0.0
    return "strong" if share >= STRONG else "weak" if share >= WEAK else "none"


def unknown_identifiers(
    snapshot: Snapshot, parsed: ParsedQuery, visible: np.ndarray
) -> tuple[str, ...]:
    """Codes and identifiers typed in the query that no visible article holds whole (its
    parts may still match: KRB_AP_ERR_MODIFIED shares "krb" and "err" with other codes)."""
    missing = []
    for clause in parsed.clauses:
        word = clause.typed[0]
        if len(clause.typed) != 1 or clause.prefix or not _IDENTIFIER.match(word):
            continue
        if not any(holds(snapshot, form[0], visible) for form in clause.forms if len(form) == 1):
            missing.append(word)
    return tuple(missing)
