"""``kb export``: the knowledge base as a static MkDocs site, for one audience.

A public export can be handed out, so it is built from a staging copy that holds only what
that audience may read: the articles of the audience, and only the images and attachments
those articles link to (an internal article's diagram stays behind). Links from an exported
article to one that was left out become plain text, and an index page lists what is there.
The site is built with ``strict`` on, so any other broken link fails the export.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from .articles import iter_article_paths, read_article
from .errors import ArticleError
from .markdown import resolve_relative

DEFAULT_CONFIG = {
    "site_name": "Knowledge base",
    "theme": {"name": "mkdocs"},
    "use_directory_urls": False,
    "markdown_extensions": [{"toc": {"permalink": "#"}}, "tables", "fenced_code"],
}


class ExportError(Exception):
    """The site could not be built; the message says why."""


def _audiences(audience: str) -> set[str]:
    return {"public"} if audience == "public" else {"public", "internal"}


def _unlink(markdown: str, href: str) -> str:
    """``[text](href)`` -> ``text``, for a link to an article the export leaves out."""
    pattern = rf"\[([^\]]*)\]\(\s*<?{re.escape(href)}>?(?:\s+\"[^\"]*\")?\s*\)"
    return re.sub(pattern, r"\1", markdown)


def _index_page(titles: dict[str, str], audience: str) -> str:
    folders: dict[str, list[str]] = defaultdict(list)
    for path in sorted(titles):
        folders[path.rpartition("/")[0] or "General"].append(path)
    lines = [f"# Knowledge base ({audience} articles)", ""]
    for folder, paths in sorted(folders.items()):
        lines += [f"## {folder}", ""]
        lines += [f"- [{titles[p]}]({p})" for p in paths]
        lines.append("")
    return "\n".join(lines)


def stage(kb_root: Path, target: Path, audience: str, default_audience: str) -> int:
    """Copy what ``audience`` may read into ``target``; returns the number of articles."""
    allowed = _audiences(audience)
    articles = {}
    for relpath in iter_article_paths(kb_root):
        try:
            article = read_article(kb_root, relpath, default_audience)
        except ArticleError as exc:
            raise ExportError(f"{exc} (fix it, or run kb lint)") from None
        if article.audience in allowed:
            articles[relpath] = article
    for relpath, article in articles.items():
        text = (kb_root / relpath).read_text(encoding="utf-8-sig")
        for href in dict.fromkeys(article.parsed.links):
            resolved = resolve_relative(relpath, href)
            if resolved is None:
                continue
            linked, _fragment = resolved
            if linked.endswith(".md"):
                if linked not in articles:
                    text = _unlink(text, href)
            elif (kb_root / linked).is_file():
                (target / linked).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(kb_root / linked, target / linked)
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        (target / relpath).write_text(text)
    titles = {p: a.title for p, a in articles.items()}
    (target / "index.md").write_text(_index_page(titles, audience))
    return len(articles)


def export_site(kb_root: Path, out: Path, audience: str = "public",
                default_audience: str = "internal", config_file: Path | None = None) -> int:  # fmt: skip
    """Build the site for ``audience`` into ``out``; returns the number of articles in it.

    Site settings come from ``config_file`` (the project's mkdocs.yml) when there is one;
    its docs_dir and site_dir are replaced by the staging copy and ``out``.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    settings = dict(DEFAULT_CONFIG)
    if config_file is not None and config_file.is_file():
        settings = yaml.safe_load(config_file.read_text()) or {}
    with tempfile.TemporaryDirectory(prefix="kb-export-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        count = stage(kb_root.resolve(), docs, audience, default_audience)
        hooks = str(Path(__file__).with_name("mkdocs_hooks.py"))
        settings |= {"docs_dir": str(docs), "site_dir": str(out.resolve()), "strict": True,
                     "hooks": [hooks]}  # fmt: skip
        settings.pop("exclude_docs", None)  # the staging copy holds only what is exported
        config_path = Path(tmp) / "mkdocs.yml"
        config_path.write_text(yaml.safe_dump(settings))
        try:
            build(load_config(str(config_path)))
        except (MkDocsException, SystemExit) as exc:
            raise ExportError(f"mkdocs could not build the site: {exc}") from None
    return count
