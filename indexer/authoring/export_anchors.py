"""``kb export`` and ``mkdocs build``: headings get the ids they get on the server.

MkDocs renders with Python-Markdown, whose table-of-contents extension makes its own heading
ids ("Step 2 — restart": ``step-2-restart``, repeats ``_1``), while the server and ``kb lint``
use markdown-it's (``step-2--restart``, repeats ``-1``). A link to ``#step-2--restart`` that
lint accepted would then break the strict export. This treeprocessor gives h1-h4 their ids
from :class:`indexer.documents.markdown.HeadingIds` first; the toc extension keeps ids it
finds, so the site's anchors, its contents list and its permalinks are the server's.
"""

from __future__ import annotations

import html
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.extensions.toc import remove_fnrefs, render_inner_html, strip_tags
from markdown.treeprocessors import Treeprocessor

from ..documents.markdown import ANCHORED_HEADINGS, HeadingIds


class ServerHeadingIds(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # after "inline" (20), which makes the headings' text, and before "toc" (5)
        md.treeprocessors.register(_HeadingIds(md), "kb_heading_ids", 6)


class _HeadingIds(Treeprocessor):
    def run(self, root: Element) -> None:
        heading_id = HeadingIds()
        for element in root.iter():
            if element.tag in ANCHORED_HEADINGS and "id" not in element.attrib:
                text = strip_tags(render_inner_html(remove_fnrefs(element), self.md))
                element.attrib["id"] = heading_id(html.unescape(text))
