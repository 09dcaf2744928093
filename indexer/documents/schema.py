"""The Whoosh schema, and how an :class:`Article` becomes one index document.

Bump :data:`SCHEMA_VERSION` whenever fields or analyzers change: an index written with
another version is rebuilt at start-up instead of being misread.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.searching import Searcher

from ..text.analysis import ANALYZERS, normalise
from ..whoosh_internals import column_values
from .articles import Article
from .fields import DETAILS, LIST_FACETS, META_FIELDS, fingerprint
from .gitmeta import FileHistory
from .markdown import ParsedBody, resolve_relative

# the fields' fingerprint is part of it: adding or changing a field rebuilds the index too
SCHEMA_VERSION = f"14.{fingerprint()}"  # 14: segments have rank files
# the columns every search reads of every document (ranking's update times, the meaning
# vectors' content hashes): read when a searcher opens (whoosh_internals.open_commit)
SEARCHED_COLUMNS = ("updated", "content_hash")


def build_schema() -> Schema:
    prose, identifier = ANALYZERS["prose"], ANALYZERS["identifier"]
    # facets and filters: each list facet's values as written (facet labels show the
    # author's spelling); the one choice facet, type, is a stored term below
    facets = {f.name: KEYWORD(commas=True) for f in LIST_FACETS}
    return Schema(
        **facets,
        # identity and lookups
        # id, path and content_hash are also columns: the writer reads them for every
        # document on each batch, and columns avoid unpickling whole stored records
        id=ID(stored=True, unique=True, sortable=True),
        path=ID(stored=True, unique=True, sortable=True),
        refs=KEYWORD(commas=True, lowercase=True),  # every name that leads here: id, aliases, paths
        exact_refs=KEYWORD(commas=True),  # the same as exact_key()s, for ids typed as queries
        tickets=KEYWORD(stored=True, commas=True, lowercase=True),
        assets=KEYWORD(commas=True),  # kb files this article links to (images, attachments)
        # searchable text
        title=TEXT(analyzer=prose, stored=True),
        headings=TEXT(analyzer=prose),
        body=TEXT(analyzer=prose, stored=True),
        code=TEXT(analyzer=identifier),
        error_codes=TEXT(analyzer=identifier),
        # no positions where no phrase is ever looked for: less to write for every posting
        meta=TEXT(analyzer=prose, phrase=False),  # the words of META_FIELDS (tags, systems)
        # "sql server", "fail start": pairs from the title, headings and symptoms only, where
        # words standing together describe the problem (from the whole body, pairs were
        # half of all postings, and so of build time, for a fifth of their ranking gain)
        pairs=TEXT(analyzer=ANALYZERS["pairs"], phrase=False),
        symptoms=TEXT(analyzer=prose, phrase=False),  # text under Symptoms / Error, again
        spelling=KEYWORD(lowercase=True, scorable=False),  # distinct words, for corrections
        type=ID(stored=True),
        audience=ID(stored=True),
        updated=DATETIME(stored=True, sortable=True),
        # review reports read these for every article, so they are columns
        owner=ID(sortable=True),
        review_by=ID(sortable=True),
        # shown on pages and used to detect change
        content_hash=ID(stored=True, sortable=True),
        record=STORED(),  # everything the article page needs, as JSON
    )


def indexed_files(searcher: Searcher) -> dict[str, tuple[str, str]]:
    """path -> (id, content hash) for every live document, read from columns."""
    reader = searcher.reader()
    if not reader.doc_count_all():
        return {}  # an empty index's reader has no columns
    paths, ids, hashes = (reader.column_reader(name) for name in ("path", "id", "content_hash"))
    return {paths[doc]: (ids[doc], hashes[doc]) for doc in reader.all_doc_ids()}


_SYMPTOM_HEADING = re.compile(
    r"\b(symptoms?|errors?|error messages?|problems?|issues?|what you see|signs?)\b", re.I
)
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")
_SPELLING_WORD = re.compile(r"\b[^\W\d_]{3,30}(?:['’][^\W\d_]+)?\b")


def symptom_text(parsed: ParsedBody) -> str:
    """Text of the sections headed like "Symptoms" or "Error", with their subsections."""
    chunks, inside_level = [], 0
    for section in parsed.sections:
        if inside_level and section.level > inside_level:
            chunks.append(parsed.text[section.start : section.end])
            continue
        inside_level = section.level if _SYMPTOM_HEADING.search(section.heading) else 0
        if inside_level:
            chunks.append(parsed.text[section.start : section.end])
    return "\n".join(chunks)


def spelling_words(*texts: str) -> str:
    """Each distinct lowercase word once: the vocabulary spelling corrections come from."""
    words = {normalise(w) for text in texts for w in _SPELLING_WORD.findall(text)}
    return " ".join(words)


def exact_key(text: str) -> str:
    """``KB-1022``, ``kb1022`` and ``Kb_1022`` are one key: lowercase letters and digits."""
    return _NOT_ALPHANUMERIC.sub("", text.lower())


def meaning_text(stored: dict[str, Any]) -> str:
    """What an article's meaning vector is taken from (see indexer.writing.vectors): its title and
    text, from its stored fields (the encoder reads the first word pieces only, so what
    comes first counts)."""
    return f"{stored['title']}\n{stored.get('body', '')}"


def live_hashes(searcher: Searcher) -> dict[str, int]:
    """content hash -> doc number of every live document (one of each, for duplicates)."""
    found: dict[str, int] = {}
    for reader, offset in searcher.reader().leaf_readers():
        if reader.doc_count_all():
            hashes = column_values(reader, "content_hash")
            found.update((hashes[doc].decode(), doc + offset) for doc in reader.all_doc_ids())
    return found


def _commas(values: tuple[str, ...]) -> str:
    return ",".join(v.replace(",", " ") for v in values)


def linked_assets(article: Article) -> list[str]:
    """Files other than articles that an article links to (images, attachments)."""
    found = set()
    for href in article.parsed.links:
        resolved = resolve_relative(article.path, href)
        if resolved and not is_markdown_path(resolved[0]):
            found.add(resolved[0])
    return sorted(found)


def is_markdown_path(relpath: str) -> bool:
    """Whether a kb path names a Markdown file (an article, a template, a README), which is
    never served as a file: ``x.md`` with a tab or space after it names it too, once
    anything strips the name."""
    return relpath.strip().lower().endswith(".md")


def asset_term(relpath: str) -> str:
    """How a linked file is kept in the ``assets`` field: percent-encoded, so the field's
    comma splitting and whitespace stripping cannot turn one name into another (a link to
    ``x.md%09`` stored as ``x.md``); plain names stay as they are."""
    return quote(relpath, safe="/")


def to_document(article: Article, history: FileHistory) -> dict[str, Any]:
    """The index document for an article."""
    symptoms = symptom_text(article.parsed)
    former = history.former_names_for(article.audience)
    paths = (article.path, *former)
    refs = {article.id, *article.aliases, *paths, *(p.removesuffix(".md") for p in paths)}
    words = " ".join(value for name in META_FIELDS for value in article.values(name))
    record = {
        **{f.name: article.details[f.name] for f in DETAILS},
        "former_paths": former,
        "former_audiences": [history.audience_of(path) for path in former],
        "extra": article.extra,
        "markdown": article.body,
        "summary": article.parsed.summary,
        "steps": article.parsed.steps,
        "steps_anchor": article.parsed.steps_anchor,
        "sections": [
            [s.anchor, s.heading, s.level, s.start, s.end] for s in article.parsed.sections
        ],
        "author": history.author,
        "commit": history.commit,
        "created": history.created.isoformat() if history.created else None,
        "uncommitted": history.uncommitted,
        "warnings": article.warnings,
    }
    return {
        "id": article.id,
        "path": article.path,
        "refs": _commas(tuple(sorted(refs))),
        "exact_refs": ",".join(sorted({exact_key(ref) for ref in refs} - {""})),
        "tickets": _commas(article.tickets),
        "assets": ",".join(asset_term(path) for path in linked_assets(article)),
        "title": article.title,
        "headings": "\n".join(article.parsed.headings),
        "body": article.parsed.text,
        "code": article.parsed.code,
        "error_codes": " ".join(article.error_codes),
        "meta": words,
        "pairs": "\n".join((article.title, *article.parsed.headings, symptoms)),
        "symptoms": symptoms,
        "spelling": spelling_words(
            article.title,
            article.parsed.text,
            "\n".join(article.parsed.headings),
            article.parsed.code,
            words,
        ),
        "type": article.type or "article",
        "audience": article.audience,
        **{f.name: _commas(article.values(f.name)) for f in LIST_FACETS},
        "updated": history.updated.replace(tzinfo=None),
        "owner": article.owner,
        "review_by": article.review_by,
        "content_hash": article.content_hash,
        "record": json.dumps(record, default=str),
    }
