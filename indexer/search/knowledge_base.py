"""Reading the index: search, article lookup, tickets and assets, always within an audience.

:class:`KnowledgeBase` is the only way the rest of the program reads the index. Every method
takes the set of audiences the asker may see. Searches turn it into a mask of visible
documents first, and everything after (ranking, spelling corrections, facet counts, hits,
snippets, autocomplete, related articles) works inside that mask, so no caller can forget
it. Lookups pass it to Whoosh as a filter; an article the asker may not see answers exactly
as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from ..documents.fields import AUDIENCES, FACETS, LIST_FACETS
from ..documents.schema import asset_term, is_markdown_path
from ..errors import IndexUnavailable
from ..text.meaning import encoder
from ..text.query import ParsedQuery, Phrase, parse
from ..text.snippets import Snippet, best_passage
from ..text.synonyms import Synonyms, SynonymSource
from ..writing.storage import Generation, IndexStorage
from ..writing.vectors import VectorStore
from .answers import (
    ArticleRecord,
    CatalogueEntry,
    Hit,
    Lookup,
    SearchRequest,
    SearchResults,
)
from .confidence import match_strength, unknown_identifiers
from .explain import Explanation, explain
from .ranking import CommitArrays, Snapshot
from .rewrite import meaning_text, rewrite
from .suggestions import Completion, complete, related
from .tickets import SUBJECT_CHARS, ticket_query


def _close_all(searchers: dict[int, Searcher]) -> None:
    for searcher in list(searchers.values()):
        searcher.close()
    searchers.clear()


def _by_lowercase(terms: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for term in terms:
        grouped.setdefault(term.lower(), []).append(term)
    return grouped


def _answer_bytes(results: SearchResults) -> int:
    """About what a cached answer takes in memory."""
    return 1_000 + sum(
        len(hit.snippet) + len(hit.title) + 500 + (hit.explain.approx_bytes() if hit.explain else 0)
        for hit in results.hits
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _iso(value: dt.datetime | None) -> str:
    return value.replace(tzinfo=dt.UTC).isoformat() if value else ""


class KnowledgeBase:
    """Thread-safe reader over the live index generation, refreshed as commits land."""

    def __init__(self, storage: IndexStorage, kb_root: Path | None = None) -> None:
        self.storage = storage
        self.synonyms = SynonymSource(kb_root)
        self.vectors = VectorStore(storage.index_dir)
        self._local = threading.local()
        self._commits: OrderedDict[tuple[str, int], CommitArrays] = OrderedDict()
        self._commits_lock = threading.Lock()
        # every thread's open searcher, by id: segment files stay open while a searcher
        # does, so they are closed with the KnowledgeBase (or when it is collected)
        self._searchers: dict[int, Searcher] = {}
        self._finalizer = weakref.finalize(self, _close_all, self._searchers)

    def close(self) -> None:
        """Close every thread's searcher (their segment files stay open until then)."""
        self._finalizer()

    # ------------------------------------------------------------------ searcher lifecycle

    def searcher(self) -> Searcher:
        """This thread's searcher on the newest commit of the live generation.

        Whoosh readers seek and read shared file handles, so each server thread keeps its own
        searcher instead of sharing one. A stale searcher is reopened rather than refreshed:
        whoosh-reloaded 2.7.5's ``Searcher.refresh`` re-adds segments that a merge removed,
        which shows deleted and replaced documents again.
        """
        local = self._local
        searcher: Searcher | None = getattr(local, "searcher", None)
        if (
            searcher is not None
            and self.storage.current_name() == local.generation.name
            and searcher.up_to_date()
        ):
            return searcher
        try:
            generation, fresh = self._open_newest()
        except IndexUnavailable:
            if searcher is None:
                raise
            return searcher  # keep answering from the last good commit
        if searcher is not None:
            self._searchers.pop(id(searcher), None)
            searcher.close()
        self._searchers[id(fresh)] = fresh
        local.generation, local.searcher = generation, fresh
        return fresh

    def _open_newest(self, attempts: int = 5) -> tuple[Generation, Searcher]:
        """Open the newest commit. A writer deletes the files of superseded commits right
        after committing, so an open that raced with it is simply tried again."""
        for attempt in range(attempts):
            try:
                return self.storage.open_searcher()
            except (IndexUnavailable, OSError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def stats(self, audiences: frozenset[str] | None = None) -> dict[str, Any]:
        """Index figures; ``documents`` counts only what ``audiences`` may see, if given
        (how many internal articles there are is not for everyone either)."""
        searcher = self.searcher()
        generation: Generation = self._local.generation
        visible = self.snapshot().audience_mask(audiences) if audiences is not None else None
        return {
            "documents": searcher.doc_count() if visible is None else int(visible.sum()),
            "generation": generation.name,
            "last_indexed": generation.read_state().get("last_indexed"),
        }

    # ------------------------------------------------------------------ search

    def snapshot(self) -> Snapshot:
        """Ranking arrays for this thread's current searcher, shared with other threads."""
        searcher = self.searcher()
        local = self._local
        if getattr(local, "snapshot", None) is None or local.snapshot.searcher is not searcher:
            local.snapshot = Snapshot(searcher, self._commit_arrays(local.generation, searcher))
        return local.snapshot

    def _commit_arrays(self, generation: Generation, searcher: Searcher) -> CommitArrays:
        """The shared arrays of the commit ``searcher`` reads; only the newest are kept."""
        key = (generation.name, searcher.reader().generation())
        with self._commits_lock:
            found = self._commits.get(key)
            if found is None:
                found = self._commits[key] = CommitArrays()
                while len(self._commits) > 2:  # threads still on an old commit keep theirs
                    self._commits.popitem(last=False)
            return found

    @staticmethod
    def _keyword_mask(snapshot: Snapshot, fieldname: str, value: str) -> np.ndarray:
        """Facet values match case-insensitively; the index keeps the author's spelling, so
        the field's terms are grouped by their lowercase form once per commit (a request
        with many filters would otherwise scan the whole lexicon for each)."""
        spellings = snapshot.shared.get(
            ("spellings", fieldname), lambda: _by_lowercase(snapshot.lexicon(fieldname))
        )
        return snapshot.term_mask(fieldname, spellings.get(value.strip().lower(), []))

    def _filter_mask(
        self, snapshot: Snapshot, request: SearchRequest, parsed: ParsedQuery
    ) -> np.ndarray:
        mask = np.ones(snapshot.size, dtype=bool)
        types = (*([request.type] if request.type else []), *parsed.filters.get("type", ()))
        for value in types:
            mask &= snapshot.term_mask("type", [value.strip().lower()])
        asked = dict(request.filters)
        for fieldname in (f.name for f in LIST_FACETS):
            for value in (*asked.get(fieldname, ()), *parsed.filters.get(fieldname, ())):
                mask &= self._keyword_mask(snapshot, fieldname, value)
        if request.folder.strip("/"):
            under = request.folder.strip("/") + "/"
            mask &= snapshot.term_mask(
                "path", snapshot.terms_beginning("path", under, snapshot.size)
            )
        return mask

    def _phrase_mask(self, snapshot: Snapshot, phrases: tuple[Phrase, ...]) -> np.ndarray:
        """Documents holding every phrase (in any of its fields)."""
        mask = snapshot.live.copy()
        for phrase in phrases:
            mask &= snapshot.phrase_docs(phrase)
        return mask

    def search(self, request: SearchRequest) -> SearchResults:
        """Results for ``request``; repeated requests on the same commit come from a cache."""
        request.validate()
        started = time.perf_counter()
        snapshot = self.snapshot().scoped(request.audiences)
        return self._answer(
            snapshot,
            ("search", request),
            started,
            lambda synonyms: self._search(snapshot, request, synonyms, started),
        )

    def _answer(
        self,
        snapshot: Snapshot,
        key: tuple,
        started: float,
        compute: Callable[[Synonyms], SearchResults],
    ) -> SearchResults:
        """The answer kept for ``key`` on this commit, or ``compute``'s, then kept. Answers
        depend on the synonym groups too: one computed with groups since replaced is not
        reused."""
        synonyms = self.synonyms.current()
        cached = snapshot.shared.answers.get(key)
        if cached is not None and cached[0] is synonyms:
            return replace(cached[1], took_ms=_elapsed_ms(started))
        results = compute(synonyms)
        snapshot.shared.answers.put(key, (synonyms, results), _answer_bytes(results))
        return results

    def _search(
        self,
        snapshot: Snapshot,
        request: SearchRequest,
        synonyms: Synonyms,
        started: float,
        ticket: ParsedQuery | None = None,
        ticket_text: str = "",
    ) -> SearchResults:
        """``ticket``: the weighted query of a ticket, searched instead of ``request.q``;
        ``ticket_text``: the ticket's words, whose meaning re-ranks the results."""
        parsed = ticket or parse(request.q)
        visible = snapshot.audience_mask(request.audiences)
        allowed = visible & self._filter_mask(snapshot, request, parsed)
        for phrase in (p for p in parsed.phrases if p.excluded):
            allowed &= ~snapshot.phrase_docs(phrase)
        corrected: str | None = None
        exact: tuple[int, ...] = ()
        # the query's meaning is computed on another core while its words are ranked
        meaning = self._meaning(
            request,
            lambda: ticket_text or meaning_text(snapshot, request.q, visible, request.prefix),
        )
        if not parsed.is_empty:
            rewritten = rewrite(
                snapshot, parsed, request.q, visible, synonyms, last_is_prefix=request.prefix
            )
            parsed, corrected, exact = rewritten.parsed, rewritten.corrected, rewritten.exact
            if corrected and not ticket_text:  # "did you mean": the meaning of what was meant
                meaning = self._meaning(
                    request, lambda: meaning_text(snapshot, corrected, visible, request.prefix)
                )
        ranked = None
        meant: dict[int, float] = {}  # what meaning added to the candidates' scores
        unboosted: dict[int, float] = {}  # exact documents' scores before they are put first
        if parsed.is_empty:  # a listing of articles; but a ticket with nothing to search
            scores = None  # by suggests nothing
            matched = allowed if ticket is None else np.zeros_like(allowed)
            for clause in parsed.excluded:
                matched &= snapshot.clause_score(clause) == 0
        else:
            required = parsed.required_phrases
            phrase_docs = self._phrase_mask(snapshot, required) if required else None
            ranked = snapshot.rank(parsed, phrase_docs)
            if required and not (ranked.matched & allowed).any():
                ranked = snapshot.rank(parsed, None)  # no document has the phrase: relax it
            scores, matched = ranked.scores, ranked.matched & allowed
            if meaning is not None:
                meant = snapshot.meaning_bonus(meaning.result(), scores, matched, self.vectors)
                for doc, bonus in meant.items():
                    scores[doc] += bonus
            if exact:  # what the query names exactly comes first, in the order named
                if request.explain:
                    unboosted = {doc: float(scores[doc]) for doc in exact}
                top = float(scores.max(initial=0.0)) + 1.0
                for rank, doc in enumerate(exact):
                    scores[doc] = top + len(exact) - rank
                matched[list(exact)] = allowed[list(exact)]

        order = self._order(snapshot, scores, matched, request)
        best = int(order[0]) if len(order) else None
        # an id that names an article is found, whatever the text of articles holds
        not_found = unknown_identifiers(snapshot, parsed, visible) if ranked and not exact else ()
        if ranked is None:
            strength = "strong" if best is not None else "none"
        else:
            strength = match_strength(snapshot, parsed, ranked, best, bool(exact), not_found)
        first = (request.page - 1) * request.limit
        highlight = parsed.highlight_terms()
        shown = [int(doc) for doc in order[first : first + request.limit]]
        reasons: list[Explanation | None] = [None] * len(shown)
        if request.explain:
            reasons = list(explain(snapshot, parsed, ranked, shown, scores, meant, unboosted))
        hits = tuple(
            self._hit(snapshot, doc, scores, highlight, reason)
            for doc, reason in zip(shown, reasons, strict=True)
        )
        return SearchResults(
            query=request.q,
            total=int(matched.sum()),
            page=request.page,
            limit=request.limit,
            hits=hits,
            facets={name: snapshot.facet_counts(name, matched) for name in FACETS},
            took_ms=_elapsed_ms(started),
            corrected_query=corrected,
            match=strength,
            not_found=not_found,
            exact=snapshot.searcher.stored_fields(exact[0])["id"] if exact else None,
        )

    @staticmethod
    def _meaning(request: SearchRequest, text: Callable[[], str]) -> Future[np.ndarray] | None:
        """The meaning vector of ``text()``, which re-ranks the results, being computed
        (none, and no text made, when results are sorted by date)."""
        return encoder().encode_soon(text()) if request.sort == "relevance" else None

    @staticmethod
    def _order(
        snapshot: Snapshot, scores: np.ndarray | None, matched: np.ndarray, request: SearchRequest
    ) -> np.ndarray:
        """Matching doc numbers in result order, as far as the requested page reaches."""
        docs = np.flatnonzero(matched)
        wanted = request.page * request.limit
        if scores is None or request.sort == "updated":
            keys = -snapshot.updated[docs]
        else:
            keys = -scores[docs]
            if len(docs) > 4 * wanted:  # only the top of a long list needs sorting
                top = np.argpartition(keys, wanted)[:wanted]
                docs, keys = docs[top], keys[top]
        return docs[np.argsort(keys, kind="stable")][:wanted]

    def _hit(
        self,
        snapshot: Snapshot,
        doc: int,
        scores: np.ndarray | None,
        terms: frozenset[str],
        reason: Explanation | None = None,
    ) -> Hit:
        stored = snapshot.searcher.stored_fields(doc)
        record = json.loads(stored["record"])
        snippet: Snippet = best_passage(stored.get("body", ""), record["sections"], terms)
        return Hit(
            id=stored["id"],
            title=stored["title"],
            path=stored["path"],
            type=stored["type"],
            audience=stored["audience"],
            snippet=snippet.html,
            section_anchor=snippet.anchor,
            section_heading=snippet.heading,
            score=round(float(scores[doc]), 4) if scores is not None else 0.0,
            updated=_iso(stored.get("updated")),
            facets={f.name: tuple(record[f.name]) for f in LIST_FACETS},
            summary=record.get("summary", ""),
            steps=tuple(record.get("steps", ())),
            explain=reason,
        )

    # ------------------------------------------------------------------ discovery

    def suggest(
        self, subject: str, description: str, audiences: frozenset[str], limit: int = 5
    ) -> SearchResults:
        """Articles most likely to resolve a ticket, from its subject and description."""
        started = time.perf_counter()
        # the answer's query is the subject: the ticket's words go to ranking, weighted
        request = SearchRequest(
            q=subject[:SUBJECT_CHARS], audiences=audiences, limit=limit, prefix=False
        )
        request.validate()
        snapshot = self.snapshot().scoped(audiences)
        # the description by its digest: the cache bounds the answers it keeps, not their
        # keys, and a description may run to a megabyte
        digest = hashlib.blake2b(description.encode("utf-8", "surrogatepass"), digest_size=16)
        key = ("suggest", request, digest.digest())  # request.q holds all the subject counts

        def compute(synonyms: Synonyms) -> SearchResults:
            ticket = ticket_query(subject, description)
            text = f"{subject}\n{description}"
            return self._search(snapshot, request, synonyms, started, ticket, text)

        return self._answer(snapshot, key, started, compute)

    def catalogue(self, audiences: frozenset[str]) -> list[CatalogueEntry]:
        """Every visible article's id, path, owner, review date and last change."""
        snapshot = self.snapshot()
        visible = snapshot.audience_mask(audiences)
        internal = snapshot.term_mask("audience", ["internal"])
        entries = []
        for reader, offset in snapshot.leaves:
            columns = [reader.column_reader(name) for name in ("id", "path", "owner", "review_by")]
            updated = reader.column_reader("updated")
            for doc in range(reader.doc_count_all()):
                if visible[offset + doc]:
                    ident, path, owner, review_by = (column[doc] for column in columns)
                    entries.append(
                        CatalogueEntry(
                            ident,
                            path,
                            owner,
                            review_by,
                            _iso(updated[doc]),
                            "internal" if internal[offset + doc] else "public",
                        )
                    )
        return entries

    def autocomplete(self, text: str, audiences: frozenset[str]) -> list[Completion]:
        """Titles, error codes and tags for a half-typed query, from visible articles only."""
        snapshot = self.snapshot().scoped(audiences)
        return complete(snapshot, text[:200], snapshot.audience_mask(audiences))

    def related(self, article_id: str, audiences: frozenset[str]) -> list[ArticleRecord]:
        """Articles like this one ("more like this"), among those the asker may see."""
        snapshot = self.snapshot().scoped(audiences)
        key = ("related", article_id, audiences)
        found = snapshot.shared.answers.get(key)
        if found is None:
            visible = snapshot.audience_mask(audiences)
            own = np.flatnonzero(snapshot.term_mask("id", [article_id]) & visible)
            docs = related(snapshot, int(own[0]), visible) if len(own) else []
            found = [self._record(snapshot.searcher.stored_fields(doc)) for doc in docs]
            size = 1_000 + sum(len(record.data.get("markdown") or "") for record in found)
            snapshot.shared.answers.put(key, found, size)
        return found

    # ------------------------------------------------------------------ lookups

    @staticmethod
    def _visible(audiences: frozenset[str]) -> wq.Query | None:
        if audiences >= set(AUDIENCES):
            return None
        allowed = [wq.Term("audience", a) for a in sorted(audiences & set(AUDIENCES))]
        return wq.Or(allowed) if allowed else wq.NullQuery

    def _visible_matches(
        self, term: wq.Query, audiences: frozenset[str], limit: int = 1
    ) -> list[dict]:
        """The stored fields of up to ``limit`` documents matching ``term`` that the asker may
        see (a lookup wants one; a ticket, every article naming it)."""
        searcher = self.searcher()
        results = searcher.search(term, limit=limit, filter=self._visible(audiences))
        return [dict(hit.fields()) for hit in results]

    def lookup(self, ref: str, audiences: frozenset[str]) -> Lookup:
        """Resolve an id, alias, former id or path. Invisible articles are not found."""
        ref = ref.strip().strip("/")
        exact = self._visible_matches(wq.Term("id", ref), audiences)
        if exact:
            return Lookup(article=self._record(exact[0]))
        named = self._visible_matches(wq.Term("refs", ref.lower()), audiences)
        if named:
            return Lookup(redirect_to=named[0]["id"])
        return Lookup()

    def by_ticket(self, ticket: str, audiences: frozenset[str]) -> list[ArticleRecord]:
        """Articles that name ``ticket`` in their front matter, newest first."""
        found = self._visible_matches(
            wq.Term("tickets", ticket.strip().lower()), audiences, limit=100
        )
        return sorted((self._record(f) for f in found), key=lambda r: r.updated, reverse=True)

    def asset_visible(self, relpath: str, audiences: frozenset[str]) -> bool:
        """Whether some article the asker may read links to this kb file."""
        if is_markdown_path(relpath):
            return False  # an article is read through its page, never as a raw file
        return bool(self._visible_matches(wq.Term("assets", asset_term(relpath)), audiences))

    def permalink_ids(self, paths: set[str], audiences: frozenset[str]) -> dict[str, str]:
        """kb path -> id for the given article paths the asker may see (for links)."""
        found = {}
        for path in paths:
            hits = self._visible_matches(wq.Term("path", path), audiences)
            if hits:
                found[path] = hits[0]["id"]
        return found

    @staticmethod
    def _record(fields: dict[str, Any]) -> ArticleRecord:
        data = json.loads(fields["record"])
        return ArticleRecord(
            id=fields["id"],
            path=fields["path"],
            title=fields["title"],
            type=fields["type"],
            audience=fields["audience"],
            updated=_iso(fields.get("updated")),
            tickets=tuple(t for t in fields.get("tickets", "").split(",") if t),
            data=data,
            version=fields.get("content_hash", ""),
        )
