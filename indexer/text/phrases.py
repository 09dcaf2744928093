"""Where a phrase's words stand, per field: what phrase matching compares positions with.

One definition for the two places phrases are matched: ranking, which asks Whoosh for the
documents holding a phrase, and the segment writer, which matches the multi-word terms of
the synonym groups once per segment, as it writes the segment (a synonym such as "active
directory" is looked for in query after query, and Whoosh's phrase matching takes most of
a second at 100,000 articles; see :mod:`indexer.whoosh_internals`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from whoosh.fields import Schema

from .synonyms import Synonyms

# the fields indexed with positions, where a phrase is looked for unless a query names others
PHRASE_FIELDS = ("title", "headings", "body", "code")

# per field, the phrase's index terms and their positions, the first at 0
Placed = tuple[tuple[int, str], ...]
Placement = tuple[tuple[str, Placed], ...]


def placed_terms(schema: Schema, fieldname: str, text: str) -> Placed:
    """A phrase's terms in ``fieldname`` with their positions. Stop words leave their
    places empty ("access is denied": access at 0, denied at 2), as they do in the index;
    of an identifier, the whole form is taken (its parts stand at the positions after it)."""
    at: dict[int, str] = {}
    for token in schema[fieldname].analyzer(text, mode="query", positions=True):
        at.setdefault(token.pos, token.text)
    if not at:
        return ()
    first = min(at)
    return tuple((position - first, term) for position, term in sorted(at.items()))


def placement(schema: Schema, text: str, fields: Sequence[str] | None = None) -> Placement:
    """Where ``text``'s terms stand in each of ``fields`` (default: :data:`PHRASE_FIELDS`);
    a field where it has no term (only stop words) is left out."""
    found = ((name, placed_terms(schema, name, text)) for name in fields or PHRASE_FIELDS)
    return tuple((name, placed) for name, placed in found if placed)


def synonym_phrases(synonyms: Synonyms) -> list[str]:
    """The terms of several words in the synonym groups: each is matched as a phrase."""
    terms: Iterable[tuple[str, ...]] = synonyms.groups
    return sorted({" ".join(term) for term in terms if len(term) > 1})
