"""``kb export``: every link to an article the export leaves out becomes its text.

MkDocs renders the site with Python-Markdown, so links are taken from what Python-Markdown
made of the page, whatever the Markdown spelling (inline, reference, with a title of any
quoting, brackets in the text): a treeprocessor unwraps each such ``<a>`` element before
MkDocs checks the page's links (strictly), and the finished HTML loses the ``href`` of
raw-HTML anchors, which MkDocs does not check. Finding links in the Markdown source instead
(with regexes, or another parser's tokens) would miss whatever Python-Markdown reads
differently, and each miss names an internal article in a public site.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

from ..documents.markdown import resolve_relative, sanitize
from ..documents.schema import is_markdown_path
from .export_anchors import ServerHeadingIds


class UnlinkLeftOut(BasePlugin):
    """An MkDocs plugin for one export, of the pages (kb paths) in ``exported``; it also
    sanitises each page and gives headings their ids as on the server, so it replaces
    ``mkdocs_hooks``."""

    def __init__(self, exported: Set[str]) -> None:
        self.exported = exported
        self.page = ""  # the kb path of the page being rendered: relative links start there

    def leads_out(self, href: str) -> bool:
        """Whether ``href``, on the current page, is a link to a Markdown file (an article)
        that is not in the export."""
        # Python-Markdown keeps a parenthesised title in the href: the destination is what
        # comes before the first space
        destination = href.split(maxsplit=1)[0] if href.strip() else ""
        resolved = resolve_relative(self.page, destination)
        if resolved is None:
            return False
        return is_markdown_path(resolved[0]) and resolved[0] not in self.exported

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        config.markdown_extensions.append(_UnlinkExtension(self.leads_out))
        config.markdown_extensions.append(ServerHeadingIds())
        return config

    def on_page_markdown(self, markdown: str, page: Page, **_: Any) -> str:
        self.page = page.file.src_uri
        return markdown

    def on_page_content(self, html: str, **_: Any) -> str:
        return sanitize(html, drop_link=self.leads_out)


class _UnlinkExtension(Extension):
    def __init__(self, leads_out: Callable[[str], bool]) -> None:
        super().__init__()
        self.leads_out = leads_out

    def extendMarkdown(self, md: Markdown) -> None:
        # priority 0, as Python-Markdown's "unescape" and MkDocs' "relpath": equal priorities
        # run in the order registered, so this runs once links are made and their escapes
        # restored, and before MkDocs checks and rewrites links
        md.treeprocessors.register(_Unlink(md, self.leads_out), "kb_unlink_left_out", 0)


class _Unlink(Treeprocessor):
    def __init__(self, md: Markdown, leads_out: Callable[[str], bool]) -> None:
        super().__init__(md)
        self.leads_out = leads_out

    def run(self, root: Element) -> None:
        for parent in list(root.iter()):
            for index in reversed(range(len(parent))):
                child = parent[index]
                if child.tag == "a" and self.leads_out(child.get("href", "")):
                    _unwrap(parent, index)


def _unwrap(parent: Element, index: int) -> None:
    """Put the content of ``parent[index]`` (its text and elements) in its place."""
    link = parent[index]
    children = list(link)
    before = parent[index - 1] if index else None
    if before is None:
        parent.text = (parent.text or "") + (link.text or "")
    else:
        before.tail = (before.tail or "") + (link.text or "")
    parent.remove(link)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else before
    if last is None:
        parent.text = (parent.text or "") + (link.tail or "")
    else:
        last.tail = (last.tail or "") + (link.tail or "")
