"""``kb lint``: tell an author, before they push, everything that is wrong with their articles.

Each file is read once into :class:`Facts` (in parallel when there are many); the checks that
need the whole knowledge base (unique ids, aliases, links between articles, near-duplicates)
then run on those facts. Errors make the command fail; warnings are advice.

Rules, each with a broken fixture in ``tests/indexer/test_lint.py``:

``unreadable``        the file cannot be parsed at all (bad YAML, not UTF-8, binary)
``front-matter``      a key is missing, of the wrong kind, or not an allowed value
``duplicate-id``      two articles claim the same id
``alias``             an alias is another article's id or alias
``broken-link``       a link to an article, heading or file in the KB that does not exist
``missing-heading``   a resolution without Symptoms / Cause / Resolution, a config note
                      without Purpose / Settings / Verification / Rollback
``review``            review_by has passed (warning)
``draft``             the article is a draft: readers will not find it (warning)
``template``          a line of the article's template is still in it

In a draft (``draft: true``) every error but ``unreadable`` is a warning: nobody reads it
yet, and its author may commit it unfinished.
``similar``           the article is very like another one: extend it instead (warning)
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from ..documents.articles import asset_file, iter_article_paths, parse_article, read_article
from ..documents.frontmatter import check
from ..documents.markdown import parse_outline, resolve_relative
from ..errors import ArticleError
from .new import TEMPLATES

REQUIRED_HEADINGS = {
    "resolution": ("Symptoms", "Cause", "Resolution"),
    "config-note": ("Purpose", "Settings", "Verification", "Rollback"),
}
CACHE_VERSION = 3  # bump when Facts or the per-file checks change
PARALLEL_FROM = 300  # files; below this, starting worker processes costs more than it saves
SHINGLE_WORDS = 5
SKETCH = 32  # shingles kept per article: the smallest hashes, a bottom-k min-hash sketch
BOILERPLATE = 8  # a shingle in more articles than this is template text, not similarity
SIMILAR_BODY = 0.6  # share of shingles in common (Jaccard) that makes two articles "very like"
SIMILAR_TITLE = 90  # rapidfuzz token_set_ratio
_URL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    severity: str  # "error" or "warning"
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity} [{self.rule}] {self.message}"


@dataclass
class Facts:
    """What the cross-file checks need to know about one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    id: str = ""
    aliases: tuple[str, ...] = ()
    title: str = ""
    anchors: frozenset[str] = frozenset()
    links: tuple[tuple[str, int], ...] = ()  # (href, line)
    shingles: frozenset[int] = frozenset()
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    files: int

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def _line_of(text: str, needle: str, default: int = 1) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else default


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level front-matter key (front matter starts at line 2)."""
    lines: dict[str, int] = {}
    if text.startswith("---"):
        for number, line in enumerate(text.split("\n")[1:], start=2):
            if line.strip() in ("---", "..."):
                break
            key = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
            if key:
                lines.setdefault(key[1], number)
    return lines


def _shingles(text: str) -> frozenset[int]:
    """A bottom-k sketch of the article's 5-word shingles; two sketches estimate overlap."""
    ids = list(map(zlib.crc32, text.lower().encode().split()))  # words with their punctuation
    # hashes of int tuples are the same in every process (unlike hashes of str)
    windows = zip(*(ids[i:] for i in range(SHINGLE_WORDS)), strict=False)
    grams = sorted(set(map(hash, windows)))[:SKETCH]
    return frozenset(gram & 0xFFFFFFFF for gram in grams)  # 32 bits keep the cache small


def read_facts(root: Path, relpath: str, today: dt.date) -> Facts:
    """Everything about one file that needs nothing from the others."""
    facts = Facts(relpath)

    def add(line: int, severity: str, rule: str, message: str) -> None:
        facts.findings.append(Finding(relpath, line, severity, rule, message))

    full = root / relpath
    try:
        # only a link needs read_article's check that it stays inside the KB
        linked = read_article(root, relpath, outline=parse_outline) if full.is_symlink() else None
        raw = full.read_bytes()
        article = linked or parse_article(relpath, raw, outline=parse_outline)
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except (ArticleError, OSError, UnicodeDecodeError) as exc:
        line = exc.line if isinstance(exc, ArticleError) and exc.line else 1
        add(line, "error", "unreadable", str(getattr(exc, "message", exc)))
        return facts
    meta = article.meta
    facts.key_lines = _key_lines(text)
    if not meta:
        add(
            1,
            "error",
            "front-matter",
            "no front matter: start the file with id, title, type, "
            "systems, owner and review dates between --- lines (kb new writes them for you)",
        )
    for problem in check(meta) if meta else ():
        add(facts.key_lines.get(problem.key, 1), problem.severity, "front-matter", problem.message)

    headings = {h.strip().lower() for h in article.parsed.headings}
    for needed in REQUIRED_HEADINGS.get(article.type, ()):
        if not any(h.startswith(needed.lower()) for h in headings):
            add(1, "error", "missing-heading", f"a {article.type} needs a '## {needed}' section")
    if article.review_by and article.review_by < today.isoformat():
        add(
            facts.key_lines.get("review_by", 1),
            "warning",
            "review",
            f"review_by {article.review_by} has passed: check the article, then move the date",
        )

    if article.draft:
        add(
            facts.key_lines.get("draft", 1),
            "warning",
            "draft",
            "a draft: nobody can find it until you remove 'draft: true'",
        )
    body_start = len(text) - len(article.body)
    first_line = text.count("\n", 0, max(body_start, 0)) + 1
    left = _template_lines(root / TEMPLATES / f"{article.type}.md")
    for number, written in enumerate(article.body.split("\n"), start=first_line):
        if written.strip() in left:
            add(
                number,
                "error",
                "template",
                f"template text left in place: {written.strip()!r}: write this article's own",
            )
    facts.id, facts.aliases, facts.title = article.id, article.aliases, article.title
    facts.anchors = frozenset(s.anchor for s in article.parsed.sections if s.anchor)
    facts.links = tuple(
        (
            href,
            _line_of(text, href, 1)
            if body_start < 0
            else text.count("\n", 0, max(text.find(href, body_start), 0)) + 1,
        )
        for href in dict.fromkeys(article.parsed.links)
    )
    facts.shingles = _shingles(article.parsed.text)
    if article.draft:
        facts.findings = [replace(f, severity="warning") for f in facts.findings]
    return facts


@functools.lru_cache(maxsize=8)
def _template_lines(template: Path) -> frozenset[str]:
    """The lines of an article template's body an author is meant to replace: its sentences
    and examples, not its headings or table rows (those may rightly stay)."""
    try:
        text = template.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    body = text.split("\n---\n", 1)[-1]
    lines = (line.strip() for line in body.split("\n"))
    return frozenset(
        line for line in lines if len(line.split()) >= 3 and not line.startswith(("#", "|", "```"))
    )


def _compute(root: Path, paths: list[str], today: dt.date) -> list[Facts]:
    if len(paths) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return [read_facts(root, p, today) for p in paths]
    with ProcessPoolExecutor() as pool:
        chunk = max(16, len(paths) // ((os.cpu_count() or 2) * 8))
        return list(
            pool.map(read_facts, [root] * len(paths), paths, [today] * len(paths), chunksize=chunk)
        )


def _stamp(root: Path, relpath: str) -> list[int]:
    try:
        info = (root / relpath).stat()
    except OSError:
        return [-1, -1]
    return [info.st_size, info.st_mtime_ns]


def _to_json(facts: Facts) -> dict:
    return {
        "path": facts.path,
        "findings": [vars(f) for f in facts.findings],
        "id": facts.id,
        "aliases": list(facts.aliases),
        "title": facts.title,
        "anchors": sorted(facts.anchors),
        "links": [list(link) for link in facts.links],
        "shingles": sorted(facts.shingles),
        "key_lines": facts.key_lines,
    }


def _from_json(data: dict) -> Facts:
    return Facts(
        path=data["path"],
        findings=[Finding(**f) for f in data["findings"]],
        id=data["id"],
        aliases=tuple(data["aliases"]),
        title=data["title"],
        anchors=frozenset(data["anchors"]),
        links=tuple((href, line) for href, line in data["links"]),
        shingles=frozenset(data["shingles"]),
        key_lines=data["key_lines"],
    )


def _cache_file(root: Path) -> Path | None:
    """The cache lives in the repository's .git folder: never committed, never shared."""
    for folder in (root, *root.parents):
        if (folder / ".git").is_dir():
            return folder / ".git" / "kb-lint-cache.json"
    return None


def _read_all(root: Path, paths: list[str], today: dt.date) -> list[Facts]:
    """Facts for every path: from the cache for files unchanged since the last run today
    (same size and modification time), read afresh for the rest."""
    cache_file = _cache_file(root)
    key = f"{CACHE_VERSION}|{root}|{today.isoformat()}"
    cached: dict[str, list] = {}
    if cache_file is not None:
        try:
            data = json.loads(cache_file.read_text())
            cached = data["files"] if data.get("key") == key else {}
        except (OSError, ValueError, KeyError, TypeError):
            cached = {}
    stamps = {p: _stamp(root, p) for p in paths}
    found = {
        p: _from_json(cached[p][1]) for p in paths if p in cached and cached[p][0] == stamps[p]
    }
    fresh = [p for p in paths if p not in found]
    found.update(zip(fresh, _compute(root, fresh, today), strict=True))
    if cache_file is not None and fresh:
        files = {p: [stamps[p], _to_json(found[p])] for p in paths}
        try:
            temporary = cache_file.with_suffix(".tmp")
            temporary.write_text(json.dumps({"key": key, "files": files}))
            temporary.replace(cache_file)
        except OSError:
            pass  # a read-only checkout lints without a cache
    return [found[p] for p in paths]


def _check_ids(every: list[Facts]) -> list[Finding]:
    found: list[Finding] = []

    def error(facts: Facts, key: str, rule: str, message: str) -> None:
        found.append(Finding(facts.path, facts.key_lines.get(key, 1), "error", rule, message))

    owners: dict[str, list[Facts]] = defaultdict(list)
    for facts in every:
        if facts.id:
            owners[facts.id].append(facts)
    for article_id, claimants in owners.items():
        if len(claimants) > 1:
            for facts in claimants:
                others = ", ".join(f.path for f in claimants if f is not facts)
                error(facts, "id", "duplicate-id", f"id {article_id} is also used by {others}")
    names = Counter(a.lower() for facts in every for a in facts.aliases)
    ids = {facts.id.lower(): facts.path for facts in every if facts.id}
    for facts in every:
        for alias in facts.aliases:
            if alias.lower() in ids and ids[alias.lower()] != facts.path:
                error(facts, "aliases", "alias", f"alias {alias} is the id of {ids[alias.lower()]}")
            elif names[alias.lower()] > 1:
                error(
                    facts, "aliases", "alias", f"alias {alias} is also an alias of another article"
                )
    return found


def _check_links(root: Path, facts: Facts, by_path: dict[str, Facts]) -> list[Finding]:
    found: list[Finding] = []
    for href, line in facts.links:
        why = _broken(root, facts, by_path, href)
        if why:
            found.append(Finding(facts.path, line, "error", "broken-link", why))
    return found


def _broken(root: Path, facts: Facts, by_path: dict[str, Facts], href: str) -> str | None:
    """Why a link in ``facts``' article leads nowhere, or None if it leads somewhere."""
    if href.startswith("#"):
        missing = href[1:] and href[1:] not in facts.anchors  # a bare "#" is the page itself
        return f"no heading {href} in this article" if missing else None
    if _URL.match(href) or href.startswith("//"):
        return None
    resolved = resolve_relative(facts.path, href)
    if resolved is None:
        return f"{href} points outside the knowledge base"
    target, fragment = resolved
    if target.endswith(".md"):
        other = by_path.get(target)
        if other is None:
            return f"{href}: no article {target}"
        if fragment and fragment not in other.anchors:
            return f"{href}: {target} has no heading #{fragment}"
        return None
    if asset_file(root, target) is None:  # what the server would refuse to serve
        return f"{href}: no file {target} inside the knowledge base"
    return None


def _sharing_groups(every: list[Facts]) -> Iterator[list[int]]:
    """For each shingle that 2 to BOILERPLATE articles hold, the numbers of those articles.

    A shingle in more articles than that is template text, not similarity. Sorting all
    shingles at once (numpy) is several times faster than a dict of lists at 10,000 files."""
    sizes = [len(facts.shingles) for facts in every]
    shingles = np.fromiter(chain.from_iterable(f.shingles for f in every), np.uint32, sum(sizes))
    order = np.argsort(shingles, kind="stable")
    _, starts, counts = np.unique(shingles[order], return_index=True, return_counts=True)
    owners = np.repeat(np.arange(len(every)), sizes)[order].tolist()
    telling = (counts > 1) & (counts <= BOILERPLATE)
    for start, count in zip(starts[telling].tolist(), counts[telling].tolist(), strict=True):
        yield owners[start : start + count]


def _check_similar(checked: list[Facts], every: list[Facts]) -> list[Finding]:
    """Near-duplicates of the checked articles, from pairs of articles sharing shingles."""
    pairs: Counter[tuple[int, int]] = Counter()
    for held in _sharing_groups(every):
        pairs.update((a, b) for i, a in enumerate(held) for b in held[i + 1 :])
    wanted = {id(facts) for facts in checked}
    found = []
    for (a, b), common in pairs.items():
        for facts, other in ((every[a], every[b]), (every[b], every[a])):
            if id(facts) not in wanted:
                continue
            body = common / len(facts.shingles | other.shingles)
            if body < SIMILAR_BODY / 2:
                continue
            title = fuzz.token_set_ratio(facts.title, other.title)
            if body >= SIMILAR_BODY or title >= SIMILAR_TITLE:
                found.append(
                    Finding(
                        facts.path,
                        1,
                        "warning",
                        "similar",
                        f"very like {other.path} ({other.id}): title {title:.0f}% "
                        f"alike, {body:.0%} of the text in common; extend that "
                        "article instead of adding another?",
                    )
                )
    return found


def lint(root: Path, paths: Iterable[str] | None = None, today: dt.date | None = None) -> Report:
    """Check ``paths`` (kb-relative; default: every article) against the whole KB."""
    root = root.resolve()
    today = today or dt.date.today()
    every_path = list(iter_article_paths(root))
    every = _read_all(root, every_path, today)
    by_path = {facts.path: facts for facts in every}
    wanted = set(every_path if paths is None else paths)
    checked = [facts for facts in every if facts.path in wanted]
    findings = [f for facts in checked for f in facts.findings]
    findings += [f for f in _check_ids(every) if f.path in wanted]
    for facts in checked:
        findings += _check_links(root, facts, by_path)
    findings += _check_similar(checked, every)
    findings.sort(key=lambda f: (f.path, f.line, f.severity, f.rule))
    return Report(findings, len(checked))


def lint_file(root: Path, relpath: str, today: dt.date | None = None) -> list[Finding]:
    """The checks that need only this file and the files it links to: fast enough to run
    when an author opens the article page (no KB-wide id, alias or duplicate checks)."""
    root = root.resolve()
    today = today or dt.date.today()
    facts = read_facts(root, relpath, today)
    linked = {}
    for href, _line in facts.links:
        resolved = (
            None if _URL.match(href) or href.startswith("#") else resolve_relative(relpath, href)
        )
        if resolved and resolved[0].endswith(".md") and (root / resolved[0]).is_file():
            linked[resolved[0]] = read_facts(root, resolved[0], today)
    return sorted(
        facts.findings + _check_links(root, facts, linked),
        key=lambda f: (f.line, f.severity, f.rule),
    )
