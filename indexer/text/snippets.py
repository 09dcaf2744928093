"""Snippets: the best-matching passage of an article, highlighted, and the section it is in.

Works on the stored plain text: words are found with the analyzer's own tokenizer pattern
and mapped to index terms through a cache (an article's vocabulary repeats across queries),
then the window of text holding the most distinct query terms wins. So a result shows the
lines that matched, not the first lines of the file, and links to the heading above them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .analysis import COMPOUND, JOINERS, prose_token_terms

SNIPPET_CHARS = 240
LEAD_CHARS = 60  # context kept before the first matched word
MAX_SCAN_CHARS = 60_000  # long articles: look for the passage in the first 60k characters


@dataclass(frozen=True)
class Snippet:
    html: str  # escaped text with <mark> around matched words
    anchor: str  # heading id to link to ("" for the top of the article)
    heading: str


def _section_at(sections: Sequence[Sequence], offset: int) -> tuple[str, str]:
    for anchor, heading, _level, start, end in sections:
        if start <= offset <= end:
            return anchor, heading
    return "", ""


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Move a window's edges to word boundaries."""
    if start > 0:
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > start else end
    return start, end


def _render(text: str, start: int, end: int, marks: list[tuple[int, int]]) -> str:
    out, cursor = [], start
    for mark_start, mark_end in marks:
        if mark_start < cursor or mark_end > end:
            continue
        out.append(escape(text[cursor:mark_start]))
        out.append(f"<mark>{escape(text[mark_start:mark_end])}</mark>")
        cursor = mark_end
    out.append(escape(text[cursor:end]))
    html = " ".join("".join(out).split())
    return ("… " if start > 0 else "") + html + (" …" if end < len(text) else "")


def _lead(text: str, sections: Sequence[Sequence]) -> Snippet:
    """No word matched in the body: show the opening of the first section with text."""
    for anchor, heading, _level, start, end in sections:
        if end > start:
            cut_start, cut_end = _trim(text, start, min(end, start + SNIPPET_CHARS))
            html = _render(text, cut_start, cut_end, [])
            return Snippet(html.removeprefix("… ") if start > 0 else html, anchor, heading)
    return Snippet("", "", "")


def _matches(text: str, terms: frozenset[str]) -> list[tuple[int, int, frozenset[str]]]:
    """(start, end, query terms) of every word of ``text`` that stands for a query term.

    Only the distinct words are analysed (an article repeats its words; their terms come
    from a cache shared by every search), then the few that match are looked for with
    ``str.find``: a loop over every word in Python was most of the time a search took,
    and compiling a pattern of them for each result cost a millisecond.
    """
    end = min(len(text), MAX_SCAN_CHARS)
    found = []
    for word in set(COMPOUND.findall(text, 0, end)):
        matched = prose_token_terms(word) & terms
        if matched:
            found += [(start, start + len(word), matched) for start in _tokens(text, word, end)]
    return sorted(found, key=lambda match: match[0])


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _joined(text: str, edge: int, step: int, end: int) -> bool:
    """Whether a token goes on at ``edge`` (in the direction of ``step``, within
    ``text[:end]``): a word character there, or joiners and then one."""
    while 0 <= edge < end and text[edge] in JOINERS:
        edge += step
    return 0 <= edge < end and _is_word_char(text[edge])


def _tokens(text: str, word: str, end: int) -> list[int]:
    """Where ``word`` stands in ``text[:end]`` as a whole :data:`COMPOUND` token, not as a
    part of a longer one (``dns`` in ``dns-server``)."""
    found, start = [], text.find(word, 0, end)
    while start != -1:
        stop = start + len(word)
        if not _joined(text, start - 1, -1, end) and not _joined(text, stop, 1, end):
            found.append(start)
        start = text.find(word, stop, end)
    return found


def best_passage(text: str, sections: Sequence[Sequence], terms: frozenset[str]) -> Snippet:
    """The passage of ``text`` holding the most distinct query ``terms`` (prose-analyzed)."""
    matches = _matches(text, terms) if terms else []
    if not matches:
        return _lead(text, sections)
    # slide a window over the matches: the one covering most distinct terms (then most
    # matches) wins; each match enters and leaves the window once
    best, best_score = 0, (-1, 0)
    in_window: dict[str, int] = {}
    last = 0  # matches[first:last] are in the window
    for first, (start, _end, _found) in enumerate(matches):
        window_end = start + SNIPPET_CHARS - LEAD_CHARS
        while last < len(matches) and matches[last][0] <= window_end:
            for term in matches[last][2]:
                in_window[term] = in_window.get(term, 0) + 1
            last += 1
        score = (len(in_window), last - first)
        if score > best_score:
            best, best_score = first, score
        for term in matches[first][2]:
            in_window[term] -= 1
            if not in_window[term]:
                del in_window[term]
    first_start = matches[best][0]
    start, end = _trim(text, max(0, first_start - LEAD_CHARS), first_start + SNIPPET_CHARS)
    html = _render(text, start, end, [(s, e) for s, e, _ in matches])
    anchor, heading = _section_at(sections, first_start)
    return Snippet(html, anchor, heading)
