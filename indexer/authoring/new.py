"""Starting a new article: the next free id, today's date, the author from git, a template.

Templates are the knowledge base's own, in ``kb/_templates/<type>.md`` (ignored by the
indexer, like everything under ``_``), with ``{id}``, ``{title}``, ``{author}``, ``{today}``
and ``{review_by}`` filled in. A new article is a draft (``draft: true``): an untouched
template must not be what readers find first for its title.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

from ..documents.articles import ARTICLE_TYPES, iter_article_paths, read_article
from ..errors import ArticleError

TEMPLATES = "_templates"
REVIEW_AFTER_DAYS = 365
_NUMBERED = re.compile(r"^([A-Za-z]+-)(\d+)$")
_PLACEHOLDER = re.compile(r"\{(id|title|author|today|review_by)\}")


class AuthoringError(Exception):
    """The article cannot be created; the message says what to do."""


def next_id(root: Path, prefix: str = "KB-") -> str:
    """One more than the highest ``KB-<n>`` id or alias in use, keeping the digit count."""
    highest, width = 0, 4
    for relpath in iter_article_paths(root):
        try:
            article = read_article(root, relpath)
        except ArticleError:
            continue
        for name in (article.id, *article.aliases):
            found = _NUMBERED.match(name)
            if found and found[1].upper() == prefix.upper():
                highest, width = max(highest, int(found[2])), max(width, len(found[2]))
    return f"{prefix}{highest + 1:0{width}d}"


def _as_draft(text: str) -> str:
    """The article marked ``draft: true`` (a KB's own template may not say so): nobody finds
    it until its author has written it and removed the line."""
    if not text.startswith("---\n") or re.search(r"^draft\s*:", text, re.M):
        return text
    return "---\ndraft: true\n" + text.removeprefix("---\n")


def folders(root: Path) -> list[str]:
    """The KB's folders an article may go in (not ``_templates`` and the like)."""
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )


def slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:80].strip("-") or "untitled"


def git_author(root: Path) -> str:
    try:
        found = subprocess.run(
            ["git", "config", "user.name"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return ""
    return found.stdout.strip()


def create_article(
    root: Path,
    title: str,
    article_type: str = "resolution",
    folder: str = "",
    today: dt.date | None = None,
) -> Path:
    """Write a new article from the template, as a draft; returns its path. Never overwrites
    a file."""
    if article_type not in ARTICLE_TYPES:
        raise AuthoringError(f"type must be one of {', '.join(ARTICLE_TYPES)}")
    if not title.strip():
        raise AuthoringError("give the article a title")
    template = root / TEMPLATES / f"{article_type}.md"
    try:
        text = template.read_text()
    except OSError:
        raise AuthoringError(
            f"no template {template}: add one (see the kb-search README)"
        ) from None
    today = today or dt.date.today()
    target = root / folder / f"{slug(title)}.md"
    if not target.resolve().is_relative_to(root.resolve()):
        raise AuthoringError(f"{folder} is outside the knowledge base")
    if target.exists():
        raise AuthoringError(f"{target} already exists: edit it, or choose another title")
    values = {
        "id": next_id(root),
        "title": json.dumps(" ".join(title.split())),  # a YAML string, whatever it holds
        "author": git_author(root) or "unknown",
        "today": today.isoformat(),
        "review_by": (today + dt.timedelta(days=REVIEW_AFTER_DAYS)).isoformat(),
    }
    filled = _as_draft(_PLACEHOLDER.sub(lambda found: values[found[1]], text))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(filled)
    return target
