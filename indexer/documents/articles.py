"""One Markdown file -> one :class:`Article`: validated front matter plus the parsed body.

Files are parsed leniently, because an article that indexes with a warning helps more than
one that vanishes: unknown keys are kept, a single string where a list belongs becomes a
one-item list, a missing id is derived from the path. Only what makes a file unusable
(unreadable bytes, broken YAML, an id that cannot be a URL) raises :class:`ArticleError`,
with the line to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ArticleError
from .fields import ARTICLE_TYPES, AUDIENCES, DEFAULT_AUDIENCE, DETAILS, ID_PATTERN, KNOWN_FIELDS
from .markdown import ParsedBody, parse_body

MAX_ARTICLE_BYTES = 2_000_000
MAX_FRONT_MATTER_BYTES = 64_000
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loader that refuses YAML aliases: front matter never needs them, and a
    "billion laughs" document would otherwise expand to gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


_FastLoader: Any = getattr(yaml, "CSafeLoader", _NoAliasLoader)  # libyaml: ~10x faster
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s]")

# Dates stay text: PyYAML turns 2026-01-10 into a date but raises a bare ValueError on
# 2026-13-45, which would abort the file; as text, a bad date is a warning like any other.
_WITHOUT_TIMESTAMPS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
if _FastLoader is not _NoAliasLoader:
    _FastLoader = type("_FastLoader", (_FastLoader,), {})
_NoAliasLoader.yaml_implicit_resolvers = _WITHOUT_TIMESTAMPS
_FastLoader.yaml_implicit_resolvers = _WITHOUT_TIMESTAMPS


MAX_NESTING = 100  # front matter needs two or three levels


def _refuse_deep_nesting(raw: str, loader: type) -> None:
    """Refuse front matter nested more than MAX_NESTING deep before it is composed: PyYAML
    composes nodes recursively, so ~25,000 levels (``[[[...``, ``- - - ...``, 60 KB) overflow
    libyaml's C stack and kill the process. Events are read without recursion, and only
    until the limit."""
    if sum(map(raw.count, "[{-?:")) <= MAX_NESTING:
        return  # every level opens with one of these: this cannot be too deep
    depth = 0
    for event in yaml.parse(raw, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested more than {MAX_NESTING} levels deep", event.start_mark
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _load_yaml(raw: str) -> Any:
    """Parse front matter; anything that could hold an anchor or alias takes the slow loader,
    which refuses aliases (the C loader cannot be taught to)."""
    loader = _NoAliasLoader if _ANCHOR.search(raw) else _FastLoader
    _refuse_deep_nesting(raw, loader)
    return yaml.load(raw, Loader=loader)  # both are safe loaders


Value = str | tuple[str, ...]


@dataclass(frozen=True)
class Article:
    """A parsed article. ``path`` is relative to the kb root, with forward slashes."""

    id: str
    path: str
    title: str
    type: str
    audience: str
    details: dict[str, Value]  # every other known field, cleaned: field name -> value
    extra: dict[str, Any]
    body: str
    parsed: ParsedBody
    content_hash: str
    warnings: tuple[str, ...] = field(default=())
    meta: dict[str, Any] = field(default_factory=dict, repr=False)  # front matter as written
    draft: bool = False  # not ready for readers: never indexed (see FIELDS)

    def values(self, name: str) -> tuple[str, ...]:
        """A list field's values."""
        found = self.details[name]
        return found if isinstance(found, tuple) else (found,)

    def text(self, name: str) -> str:
        """A text or date field's value ("" when not given or not valid)."""
        found = self.details[name]
        return found if isinstance(found, str) else ", ".join(found)

    # the fields read by name, for jobs of their own (permalinks, tickets, reviews, tests)
    @property
    def systems(self) -> tuple[str, ...]:
        return self.values("systems")

    @property
    def tags(self) -> tuple[str, ...]:
        return self.values("tags")

    @property
    def error_codes(self) -> tuple[str, ...]:
        return self.values("error_codes")

    @property
    def tickets(self) -> tuple[str, ...]:
        return self.values("tickets")

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.values("aliases")

    @property
    def owner(self) -> str:
        return self.text("owner")

    @property
    def reviewed(self) -> str:
        return self.text("reviewed")

    @property
    def review_by(self) -> str:
        return self.text("review_by")


def is_article_path(relpath: str) -> bool:
    """Markdown files count as articles, except README.md and anything under ``_`` or ``.``."""
    parts = relpath.split("/")
    if any(part.startswith(("_", ".")) for part in parts):
        return False
    return parts[-1].endswith(".md") and parts[-1].lower() != "readme.md"


def iter_article_paths(
    root: Path, skip: Path | None = None, refused: list[str] | None = None
) -> Iterator[str]:
    """Every article path under ``root``, sorted, never following links out of the root;
    such links are listed in ``refused`` if given, so they can be reported."""
    root = root.resolve()
    skip = skip.resolve() if skip else None
    top = str(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(("_", ".")) and (skip is None or Path(dirpath, d) != skip)
        )
        folder = os.path.relpath(dirpath, top).replace(os.sep, "/")
        for name in filenames:
            relpath = name if folder == "." else f"{folder}/{name}"
            if not is_article_path(relpath):
                continue
            full = os.path.join(dirpath, name)
            if not os.path.islink(full) or _inside(Path(full), root):
                found.append(relpath)
            elif refused is not None:
                refused.append(relpath)
    yield from sorted(found)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def asset_file(root: Path, relpath: str) -> Path | None:
    """The real file behind a link to ``relpath`` (an image, an attachment), if it may be handed
    out: inside the kb folder ``root`` with every symlink followed, a regular file, not hidden,
    not Markdown. A symlink committed next to an article (to /etc/passwd, to a folder
    elsewhere, to an article dressed as an image) must not hand out what it points to, nor a
    link reach .git/config. The server serves only these files and kb export copies only
    these; None for anything else."""
    if relpath.startswith("/") or any(part.startswith(".") for part in relpath.split("/")):
        return None
    kb = root.resolve()
    try:
        target = (kb / relpath).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, a NUL byte
        return None
    if target.is_relative_to(kb) and target.is_file() and target.suffix.lower() != ".md":
        return target
    return None


def derived_id(relpath: str) -> str:
    """The id of an article without one: its path without ``.md``."""
    return relpath[:-3] if relpath.endswith(".md") else relpath


def split_front_matter(text: str, relpath: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body); a file without front matter is all body."""
    if not text.startswith("---"):
        return {}, text
    first_line_end = text.find("\n")
    if first_line_end == -1 or text[:first_line_end].strip() != "---":
        return {}, text
    end = _FRONT_MATTER_END.search(text, first_line_end + 1)
    if end is None:
        raise ArticleError(relpath, "front matter starts with '---' but never ends", line=1)
    raw = text[first_line_end + 1 : end.start()]
    if len(raw) > MAX_FRONT_MATTER_BYTES:
        raise ArticleError(relpath, "front matter is larger than 64 KB", line=1)
    body_start = text.find("\n", end.end())
    body = "" if body_start == -1 else text[body_start + 1 :]
    try:
        data = _load_yaml(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ArticleError(relpath, f"invalid YAML in front matter: {problem}", line=line) from None
    except ValueError as exc:  # from a constructor: !!timestamp 2026-13-45, a 5,000-digit int
        reason = str(exc).split(";")[0]
        raise ArticleError(relpath, f"invalid value in front matter: {reason}", line=1) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArticleError(relpath, "front matter must be a mapping of key: value", line=2)
    _check_storable(data, relpath)
    return data, body


def _check_storable(data: dict[str, Any], relpath: str) -> None:
    """The index keeps front matter as JSON, and a value JSON cannot hold (a !!binary or
    !!timestamp key, a number of more than 4,300 digits) would abort the whole build there."""
    try:
        json.dumps(data, default=str)
    except (TypeError, ValueError) as exc:
        reason = str(exc).split(";")[0]
        raise ArticleError(relpath, f"front matter cannot be stored: {reason}", line=2) from None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _as_list(key: str, value: Any, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float | dt.date):
        value = [value]
    if not isinstance(value, list):
        warnings.append(f"'{key}' should be a list; ignored")
        return ()
    return tuple(t for t in (_as_text(v) for v in value if not isinstance(v, dict | list)) if t)


def _as_date(key: str, value: Any, warnings: list[str]) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        warnings.append(f"'{key}' is not a date (YYYY-MM-DD): {value!r}")
        return ""


_CLEAN: dict[str, Callable[[str, Any, list[str]], Value]] = {
    "list": _as_list,
    "date": _as_date,
    "text": lambda _key, value, _warnings: _as_text(value),
    "choice": lambda _key, value, _warnings: _as_text(value).lower(),
}


def parse_article(
    relpath: str,
    raw: bytes,
    default_audience: str = DEFAULT_AUDIENCE,
    outline: Callable[[str], ParsedBody] = parse_body,
) -> Article:
    """Parse the bytes of one article file. Raises :class:`ArticleError` if it is unusable."""
    if len(raw) > MAX_ARTICLE_BYTES:
        raise ArticleError(relpath, f"file is larger than {MAX_ARTICLE_BYTES // 1_000_000} MB")
    if b"\x00" in raw:
        raise ArticleError(relpath, "file looks binary (contains NUL bytes), not Markdown")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ArticleError(relpath, "file is not valid UTF-8 text", line=line) from None
    text = text.replace("\r\n", "\n")
    meta, body = split_front_matter(text, relpath)
    warnings: list[str] = []

    article_id = _as_text(meta.get("id")) or derived_id(relpath)
    if not ID_PATTERN.match(article_id):
        raise ArticleError(
            relpath,
            f"id {article_id!r} cannot be a permalink: use letters, digits, '-', '_', '.', '/'",
            line=_key_line(text, "id"),
        )
    parsed = outline(body)
    title = _as_text(meta.get("title")) or parsed.first_heading or _title_from_path(relpath)

    article_type = _as_text(meta.get("type")).lower()
    if article_type and article_type not in ARTICLE_TYPES:
        warnings.append(
            f"unknown type {article_type!r}; expected one of {', '.join(ARTICLE_TYPES)}"
        )
    audience = _as_text(meta.get("audience")).lower() or default_audience
    if audience not in AUDIENCES:
        # another system's vocabulary (e.g. "itpro"): treat as unset, never as a wider audience
        warnings.append(f"unknown audience {audience!r}; using the default, {default_audience}")
        audience = default_audience

    return Article(
        id=article_id,
        path=relpath,
        title=title,
        type=article_type,
        audience=audience,
        details={f.name: _CLEAN[f.kind](f.name, meta.get(f.name), warnings) for f in DETAILS},
        extra={k: v for k, v in meta.items() if k not in KNOWN_FIELDS},
        body=body,
        parsed=parsed,
        content_hash=content_hash(raw),
        warnings=tuple(warnings),
        meta=meta,
        draft=meta.get("draft") is True or _as_text(meta.get("draft")).lower() in ("true", "yes"),
    )


def content_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def file_hash(path: Path) -> str | None:
    """The content hash of a file, or None if it cannot be read."""
    try:
        return content_hash(path.read_bytes())
    except OSError:
        return None


def read_article(
    root: Path,
    relpath: str,
    default_audience: str = DEFAULT_AUDIENCE,
    outline: Callable[[str], ParsedBody] = parse_body,
) -> Article:
    """Read and parse ``root/relpath``; I/O problems become :class:`ArticleError` too."""
    full = root / relpath
    if not _inside(full, root.resolve()):
        raise ArticleError(relpath, "is a link to a file outside the knowledge base")
    try:
        with open(full, "rb") as handle:
            raw = handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as exc:
        raise ArticleError(relpath, f"cannot be read: {exc.strerror or exc}") from None
    return parse_article(relpath, raw, default_audience, outline)


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _title_from_path(relpath: str) -> str:
    stem = relpath.rsplit("/", 1)[-1].removesuffix(".md")
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or relpath
