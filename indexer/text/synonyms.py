"""Synonyms and acronyms, applied to queries (never to the index) so edits need no rebuild.

Groups come from the defaults shipped beside this module and from ``_synonyms.yml`` at the
root of the knowledge base. The file is re-read when it changes; a broken file is reported
and the last good groups stay in use, so a typo in it never breaks search.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..errors import ArticleError
from .analysis import COMPOUND
from .query import Clause, ParsedQuery

log = logging.getLogger(__name__)

FILE_NAME = "_synonyms.yml"
DEFAULTS = Path(__file__).with_name("synonyms.yml")
MAX_TERM_WORDS = 4

Term = tuple[str, ...]  # a term as its lowercase words: ("active", "directory")


def _words(text: str) -> Term:
    return tuple(w.lower() for w in COMPOUND.findall(text))


@dataclass(frozen=True)
class Synonyms:
    """term -> the other terms of its group."""

    groups: dict[Term, tuple[Term, ...]]

    @classmethod
    def parse(cls, text: str, source: str) -> tuple[Synonyms, bool]:
        """Groups in a synonyms file, and whether it keeps the shipped defaults."""
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise ArticleError(source, f"not valid YAML: {error}", line) from error
        entries = data.get("synonyms", []) if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ArticleError(source, "expected a `synonyms:` list of comma-separated groups")
        groups: dict[Term, tuple[Term, ...]] = {}
        for entry in entries:
            terms = [t for t in (_words(part) for part in str(entry).split(",")) if t]
            terms = [t for t in dict.fromkeys(terms) if len(t) <= MAX_TERM_WORDS]
            for term in terms:
                others = tuple(t for t in terms if t != term)
                groups[term] = tuple(dict.fromkeys((*groups.get(term, ()), *others)))
        keep_defaults = not (isinstance(data, dict) and data.get("defaults") is False)
        return cls(groups), keep_defaults

    def merged(self, other: Synonyms) -> Synonyms:
        groups = dict(self.groups)
        for term, others in other.groups.items():
            groups[term] = tuple(dict.fromkeys((*groups.get(term, ()), *others)))
        return Synonyms(groups)

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """Merge runs of words that name a synonym term into one clause with alternatives.

        Longest match first: "active directory" becomes one clause whose forms are
        (active, directory) and (ad,). Field-restricted and excluded words are left alone.
        """
        if not self.groups:
            return parsed
        clauses = list(parsed.clauses)
        out: list[Clause] = []
        i = 0
        while i < len(clauses):
            for size in range(min(MAX_TERM_WORDS, len(clauses) - i), 0, -1):
                run = clauses[i : i + size]
                if any(c.fields is not None or len(c.typed) != 1 for c in run):
                    continue
                term = tuple(c.typed[0].lower() for c in run)
                others = self.groups.get(term)
                if others:
                    out.append(
                        Clause(
                            forms=(tuple(c.typed[0] for c in run), *others),
                            required=any(c.required for c in run),
                            weight=max(c.weight for c in run),
                        )
                    )
                    i += size
                    break
            else:
                out.append(clauses[i])
                i += 1
        return replace(parsed, clauses=tuple(out))


class SynonymSource:
    """The synonyms in force for one knowledge base, reloaded when its file changes."""

    def __init__(self, kb_root: Path | None) -> None:
        self.path = kb_root / FILE_NAME if kb_root else None
        self.problem: ArticleError | None = None
        self._defaults, _ = Synonyms.parse(DEFAULTS.read_text(encoding="utf-8"), str(DEFAULTS))
        self._current = self._defaults
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def current(self) -> Synonyms:
        """The groups now in force (a stat per call; a re-read only after a change)."""
        try:
            stat = self.path.stat() if self.path else None
        except OSError:
            stat = None
        seen = (stat.st_mtime_ns, stat.st_size) if stat else None
        if seen != self._seen:
            with self._lock:
                self._reload(seen)
        return self._current

    def _reload(self, seen: tuple[int, int] | None) -> None:
        self._seen = seen
        if seen is None or self.path is None:
            self._current, self.problem = self._defaults, None
            return
        try:
            local, keep = Synonyms.parse(self.path.read_text(encoding="utf-8"), FILE_NAME)
        except (ArticleError, OSError, UnicodeDecodeError) as error:
            self.problem = (
                error if isinstance(error, ArticleError) else ArticleError(FILE_NAME, str(error))
            )
            log.warning("synonyms not reloaded, keeping the previous ones: %s", self.problem)
            return
        self._current = self._defaults.merged(local) if keep else local
        self.problem = None
