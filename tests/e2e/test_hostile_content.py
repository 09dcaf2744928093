"""Hostile and broken article files, and hostile URLs, against a real `kb serve`.

An author (or a bad merge) can put anything in the kb folder: binary files named .md,
invalid UTF-8, lines of several MB, YAML bombs, links to files outside the knowledge base,
file names with spaces, quotes and URL syntax. The service must start, keep serving the good
articles, name each bad file (in /problems and in the log), and never serve or show anything
from outside the kb folder, however the URL is spelt. Tokens never reach the log.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from indexer.documents.articles import MAX_ARTICLE_BYTES

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import ADMIN_TOKEN, AUTHOR_TOKEN, TIER1_TOKEN, TIER2_TOKEN, git, make_kb_repo, write
from ..forms import browser_session, form_posting_to

SECRET = "plutoniumsecretword"  # only in files outside the kb folder
OUTSIDE_WORD = "zorgmundbunker"  # also only outside: searched for, where SECRET would echo
HUGE_WORD = "hugelinemarkerword"  # at the end of the article just under the size limit
OTHER_AUTHOR = "Mallory Other"
DEEP_WORD = "deephtmlmarkerword"  # inside 100,000 nested <div>s
TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><title>{}</title></svg>'

BILLION_LAUGHS = """---
id: KB-LAUGHS
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
title: *i
---
Laughing.
"""


def _front(body: str, **keys: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in keys.items())
    return f"---\n{lines}audience: public\ntype: resolution\n---\n{body}\n"


# Files that must be refused, each with what the refusal says in kb-search's own words (never
# a library's: PyYAML 6.0.4 reworded its nesting error overnight) and, where the fault sits
# on one line, which line the author is sent to.
BAD_FILES: dict[str, tuple[bytes, str] | tuple[bytes, str, int]] = {
    "bad/binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    "bad/latin1.md": (
        _front("Caf\xe9 cr\xe8me", title="Na\xefve").encode("latin-1"),
        "not valid UTF-8",
    ),
    "bad/over-the-limit.md": (
        _front("x" * MAX_ARTICLE_BYTES, id="KB-OVER").encode(),
        "larger than",
    ),
    "bad/several-mb-line.md": (
        _front("word " * 1_000_000, id="KB-5MB").encode(),
        "larger than",
    ),
    "bad/billion-laughs.md": (BILLION_LAUGHS.encode(), "aliases"),
    "bad/deep-yaml.md": (
        ("---\nid: KB-DEEP\ntitle: " + "[" * 30_000 + "]" * 30_000 + "\n---\nDeep.\n").encode(),
        "invalid YAML",
        3,
    ),
    "bad/deep-yaml-anchored.md": (
        ("---\nid: KB-DEEP2\ntitle: &t " + "[" * 5_000 + "]" * 5_000 + "\n---\nDeep.\n").encode(),
        "invalid YAML",
        3,
    ),
    "bad/deep-block-yaml.md": (
        ("---\nid: KB-DEEP3\ntitle:\n  " + "- " * 30_000 + "x\n---\nDeep.\n").encode(),
        "invalid YAML",
        4,
    ),
    "bad/python-object.md": (
        b"---\nid: KB-PY\ntitle: !!python/object/apply:os.system ['touch /tmp/kb-pwned']\n---\nx\n",
        "invalid YAML",
    ),
    "bad/unterminated.md": (b"---\nid: KB-OPEN\ntitle: never closed\n", "never ends"),
    "bad/not-a-mapping.md": (b"---\n- just\n- a list\n---\nbody\n", "mapping"),
    "bad/no id, spaces & unicode \u00e9.md": (
        b"A name no URL can carry.\n",
        "cannot be a permalink",
    ),
    "bad/" + "n" * 240 + ".md": (b"A name longer than any id may be.\n", "cannot be a permalink"),
}


@dataclass(frozen=True)
class OddName:
    """A good article with an awkward file name, and an image with one, next to it."""

    path: str
    id: str | None  # None: the permalink is the path without .md
    image: str  # relative to the article's folder
    word: str  # a word only this article holds

    @property
    def permalink(self) -> str:
        return self.id or self.path.removesuffix(".md")


ODD_NAMES = [
    OddName("odd/with space.md", "ODD-SPACE", "img/my diagram.svg", "oddspaceword"),
    OddName("odd/ünïcödé 图表.md", "ODD-UNICODE", "img/ñandú 图.svg", "oddunicodeword"),
    OddName("odd/hash#tag.md", "ODD-HASH", "img/a#b.svg", "oddhashword"),
    OddName("odd/question?.md", "ODD-QUESTION", "img/why?.svg", "oddquestionword"),
    OddName("odd/percent%41.md", "ODD-PERCENT", "img/100%41.svg", "oddpercentword"),
    OddName("odd/quote'\"s.md", "ODD-QUOTES", 'img/it\'s "q".svg', "oddquoteword"),
    OddName("odd/back\\slash.md", "ODD-BACKSLASH", "img/back\\slash.svg", "oddbackslashword"),
    OddName("odd/-leading-dash.md", None, "img/-dash.svg", "odddashword"),
    OddName("odd/--output.md", None, "img/--help.svg", "oddoptionword"),
    OddName("odd/" + "l" * 200 + ".md", "ODD-LONG", "img/" + "i" * 200 + ".svg", "oddlongword"),
    OddName("odd/plain.tilde~name.md", None, "img/semi;colon&amp.svg", "oddtildeword"),
]


def _odd_article(odd: OddName) -> str:
    keys = {"title": f"Odd file name {odd.word}"}
    if odd.id:
        keys["id"] = odd.id
    return _front(f"The {odd.word} article.\n\n![diagram]({quote(odd.image)})\n", **keys)


def make_hostile_kb(root: Path) -> Path:
    """The sample KB, the files above, links out of the kb, and odd names; all committed."""
    kb = make_kb_repo(root / "repo")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(
        _front(
            f"The {SECRET} lives in the {OUTSIDE_WORD} bunker.",
            id="OUTSIDE-1",
            title=f"Outside {SECRET}",
        )
    )
    (outside / "secret.svg").write_text(SVG.format(SECRET))
    (outside / "secret.txt").write_text(f"{SECRET}\n")

    head = _front("", id="KB-HUGE", title="One enormous line")
    room = MAX_ARTICLE_BYTES - len(head) - len(HUGE_WORD) - 1
    # one line of almost 2 MB, like a pasted base64 blob (its chunks are too long to be words)
    filler = ("QUJD" * 40 + " ") * (room // 161)
    line = filler + " " * (room - len(filler)) + HUGE_WORD + "\n"
    huge = write(kb, "good/huge-line.md", head + line)
    assert huge.stat().st_size == MAX_ARTICLE_BYTES

    nested = "<div>" * 100_000 + f"\n{DEEP_WORD}\n" + "</div>" * 100_000
    write(kb, "good/deep-html.md", _front(f"Intro.\n\n{nested}\n", id="KB-DEEPHTML"))
    for relpath, (raw, *_) in BAD_FILES.items():
        (kb / relpath).parent.mkdir(parents=True, exist_ok=True)
        (kb / relpath).write_bytes(raw)
    for odd in ODD_NAMES:
        write(kb, odd.path, _odd_article(odd))
        folder = Path(odd.path).parent
        write(kb, str(folder / odd.image), SVG.format(odd.word))

    links = kb / "links"
    (links / "img").mkdir(parents=True)
    (links / "outside.md").symlink_to(outside / "secret.md")
    (links / "passwd.md").symlink_to("/etc/passwd")
    (links / "outside-folder").symlink_to(outside, target_is_directory=True)
    (links / "img/leak.svg").symlink_to(outside / "secret.svg")
    (links / "img/passwd.svg").symlink_to("/etc/passwd")
    write(
        kb,
        "links/uses-links.md",
        _front(
            "![leak](img/leak.svg) ![passwd](img/passwd.svg) ![folder](outside-folder/secret.svg)\n\n"
            "[text](outside-folder/secret.txt) [article](outside.md) [abs](/etc/passwd)\n",
            id="KB-LINKS",
            title="Links that lead out of the knowledge base",
        ),
    )
    git(root / "repo", "add", "-A")
    git(root / "repo", "commit", "-q", "-m", "Hostile files, odd names, links out")
    # a file whose name the pattern "question?.md" would match, changed by someone else
    write(kb, "odd/questionX.md", _front("Another article.", id="ODD-QX", title="Another"))
    git(root / "repo", "add", "-A")
    git(root / "repo", "commit", "-q", "--author", f"{OTHER_AUTHOR} <m@example.com>", "-m", "QX")
    return kb


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `kb serve` over the hostile KB, logging everything (DEBUG) for the log checks."""
    root = tmp_path_factory.mktemp("hostile")
    kb = make_hostile_kb(root)
    server = start_server(kb, root / "index", root / "serve.log", KB_LOG_LEVEL="DEBUG")
    yield server
    stop_server(server)


# ---------------------------------------------------------------------- HTTP helpers


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def raw(
    server: LiveServer,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    """Send ``path`` exactly as written: no client-side normalising of ``..`` or escapes."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def get(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> Reply:
    return raw(server, "GET", path, headers)


def problems(server: LiveServer) -> list[str]:
    """The entries of /problems, as tier 2 reads them."""
    reply = get(server, "/problems", TIER2)
    assert reply.status == 200
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", reply.text, re.S)]


def log_text(server: LiveServer) -> str:
    server.log.flush()
    return server.log_path.read_text(errors="replace")


def wait_for_log(server: LiveServer, needle: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while needle not in (text := log_text(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text


# ---------------------------------------------------------------------- broken files


def test_server_starts_and_keeps_serving_good_articles(hostile: LiveServer) -> None:
    assert hostile.process.poll() is None
    health = get(hostile, "/healthz").json()
    assert health["status"] == "ok", health
    hits = get(hostile, "/api/search?q=0x80070005").json()["results"]
    assert hits and hits[0]["id"] == "KB-2001"
    assert get(hostile, "/kb/KB-2001").status == 200
    assert get(hostile, "/kb/KB-2003", TIER2).status == 200


def test_article_just_under_the_size_limit_is_served(hostile: LiveServer) -> None:
    """A single line of almost 2 MB indexes, is found by its last word, and renders."""
    hits = get(hostile, f"/api/search?q={HUGE_WORD}").json()["results"]
    assert [hit["id"] for hit in hits] == ["KB-HUGE"]
    page = get(hostile, "/kb/KB-HUGE")
    assert page.status == 200
    assert HUGE_WORD in page.text


def test_deeply_nested_raw_html_is_served_quickly_and_inert(hostile: LiveServer) -> None:
    """100,000 nested <div>s cost the HTML sanitizer minutes (its time grows with the square
    of the depth); such an article is shown as escaped source instead, at once."""
    hits = get(hostile, f"/api/search?q={DEEP_WORD}").json()["results"]
    assert [hit["id"] for hit in hits] == ["KB-DEEPHTML"]
    started = time.monotonic()
    page = get(hostile, "/kb/KB-DEEPHTML")
    assert page.status == 200
    assert time.monotonic() - started < 3
    assert DEEP_WORD in page.text
    assert page.text.count("<div>") < 100


@pytest.mark.parametrize("relpath", list(BAD_FILES))
def test_each_bad_file_is_reported_and_skipped(hostile: LiveServer, relpath: str) -> None:
    """Named in /problems (tier 2) and in the log, with why and, where it has one, the line;
    never indexed, never a 500."""
    why, *line = BAD_FILES[relpath][1:]
    listed = [item for item in problems(hostile) if relpath in item]
    assert listed, f"{relpath} is not on /problems"
    assert why.lower() in listed[0].lower(), listed[0]
    if line:
        assert f"{relpath}:{line[0]}</code>" in listed[0], listed[0]
    assert f"skipped {relpath}" in wait_for_log(hostile, f"skipped {relpath}")
    everything = get(hostile, "/api/search?q=&limit=100", TIER2).json()
    assert relpath not in {hit["path"] for hit in everything["results"]}
    ref = quote(relpath.removesuffix(".md"))
    assert get(hostile, f"/kb/{ref}", TIER2).status == 404
    assert get(hostile, f"/api/articles/{ref}", TIER2).status == 404


def test_problems_page_is_for_tier2_only(hostile: LiveServer) -> None:
    """It names files, internal ones included: tier 1 gets 403, anonymous is sent to sign in."""
    assert get(hostile, "/problems").status == 302
    tier1 = get(hostile, "/problems", {"Authorization": f"Bearer {TIER1_TOKEN}"})
    assert tier1.status == 403
    assert "bad/" not in tier1.text
    assert get(hostile, "/healthz", TIER2).json()["problems"] >= len(BAD_FILES)


def test_python_tags_in_front_matter_never_run(hostile: LiveServer) -> None:
    assert not Path("/tmp/kb-pwned").exists()


# ---------------------------------------------------------------------- odd file names


@pytest.mark.parametrize("odd", ODD_NAMES, ids=[o.path[:40] for o in ODD_NAMES])
def test_odd_file_names_are_reachable_with_their_images(hostile: LiveServer, odd: OddName) -> None:
    page = get(hostile, "/kb/" + quote(odd.permalink))
    assert page.status == 200, (odd.path, page.status)
    assert odd.word in page.text
    article = get(hostile, "/api/articles/" + quote(odd.permalink)).json()
    assert article["path"] == odd.path
    assert article["id"] == odd.permalink
    # the image link in the page leads to the image
    sources = re.findall(r'<img src="([^"]+)"', article["html"])
    assert len(sources) == 1, article["html"]
    image = get(hostile, html.unescape(sources[0]))
    assert image.status == 200, (sources[0], image.status)
    assert odd.word.encode() in image.body
    assert "sandbox" in image.headers["Content-Security-Policy"]
    # found by search, with a working link
    hit = get(hostile, f"/api/search?q={odd.word}").json()["results"][0]
    assert hit["id"] == odd.permalink
    assert get(hostile, urlsplit(hit["url"]).path).status == 200
    # its history is its own, whatever pattern syntax its name holds
    assert article["author"] == "Ada Author", article["author"]
    history = get(hostile, f"/kb/{quote(odd.permalink)}/history", TIER2)
    assert history.status == 200
    assert OTHER_AUTHOR not in history.text
    # the file's path is an old name that leads to the permalink
    if odd.id:
        moved = get(hostile, "/kb/" + quote(odd.path))
        assert moved.status == 301
        assert moved.headers["Location"].endswith("/kb/" + quote(odd.id))


# ---------------------------------------------------------------------- outside the kb


def test_links_out_of_the_kb_are_never_indexed_or_served(hostile: LiveServer) -> None:
    """Symlinked articles, folders and images that lead out of the kb folder: the secret
    word of the files they point to appears in no answer, for anyone."""
    paths = [
        "/",
        f"/?q={OUTSIDE_WORD}",
        f"/api/search?q={OUTSIDE_WORD}",
        "/api/search?q=&limit=100",
        f"/api/autocomplete?q={SECRET[:6]}",
        "/api/autocomplete?q=outside",
        "/problems",
        f"/help?q={OUTSIDE_WORD}",
        f"/api/search?q={SECRET[:-1]}",
        "/healthz",
        "/kb/OUTSIDE-1",
        "/api/articles/OUTSIDE-1",
        "/kb/links/outside",
        "/kb/links/outside-folder/secret",
        "/api/articles/links/outside-folder/secret",
        "/kb/links/passwd",
        "/kb/KB-LINKS",
        "/api/articles/KB-LINKS",
        "/kb-files/links/img/leak.svg",
        "/kb-files/links/img/passwd.svg",
        "/kb-files/links/outside-folder/secret.svg",
        "/kb-files/links/outside-folder/secret.txt",
        "/kb-files/links/outside.md",
        "/kb-files/links/passwd.md",
    ]
    for headers in ({}, TIER2):
        for path in paths:
            reply = get(hostile, path, headers)
            assert reply.status < 500, (path, reply.status)
            assert SECRET not in reply.text, (path, headers)
            assert "root:x:0:0" not in reply.text, (path, headers)
    linking = get(hostile, "/kb/KB-LINKS")
    assert linking.status == 200  # the article itself is fine; its links lead nowhere
    for path in paths[-6:]:
        assert get(hostile, path, TIER2).status == 404, path
    assert SECRET not in log_text(hostile)


def test_links_out_of_the_kb_are_reported(hostile: LiveServer) -> None:
    listed = " ".join(problems(hostile))
    assert "links/outside.md" in listed
    assert "links/passwd.md" in listed


def _outside_relpath(hostile: LiveServer) -> str:
    kb = hostile.kb_dir.resolve()
    return os.path.relpath(kb.parent.parent / "outside" / "secret.svg", kb)


TRAVERSALS = [
    "/kb-files/..%5c..%5c..%5cetc%5cpasswd",
    "/kb-files/..\\..\\..\\etc\\passwd",
    "/kb-files/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/kb-files/%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/kb-files/%2fetc%2fpasswd",
    "/kb-files/%2Fetc/passwd",
    "/kb-files///etc/passwd",
    "/kb-files/C:%5cWindows%5cwin.ini",
    "/kb-files/email/img/flow.svg%00../../../../etc/passwd",
    "/kb-files/email/img/flow.svg%00.md",
    "/kb-files/email/outlook-prompt.md%00.svg",
    "/kb-files/%00/etc/passwd",
    "/kb-files/email/img/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/kb-files/./././../../../etc/passwd",
    "/kb-files/..%c0%af..%c0%af..%c0%afetc/passwd",
    "/kb-files/%u002e%u002e/%u002e%u002e/etc/passwd",
    "/kb-files/.%2e/.%2e/.%2e/etc/passwd",
    "/kb-files/%2e%2e%5c%2e%2e%5c.git%5cconfig",
    "/kb-files/../.git/config",
    "/kb-files/..%2f.git%2fconfig",
    "/kb-files/{outside}",
    "/kb-files/{outside_quoted}",
    "/kb-files/{outside_absolute}",
    "/kb-files/%2f{outside_absolute}",
    "/kb-files/links/outside-folder/..%2f..%2f..%2fetc%2fpasswd",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2fapp.py",
    "/static/%2e%2e%2fconfig.py",
    "/static/..%5capp.py",
    "/kb/..%2f..%2f..%2fetc%2fpasswd",
    "/kb/%2e%2e/%2e%2e/etc/passwd",
    "/kb/..%5c..%5cetc%5cpasswd",
    "/kb/KB-2001%00",
    "/kb/%00",
    "/help/kb/..%2f..%2fetc%2fpasswd",
    "/api/articles/..%2f..%2fetc%2fpasswd",
    "/api/articles/%2e%2e/%2e%2e/etc/passwd",
    "/api/articles/KB-2001%00/related",
    "/tickets/..%2f..%2fetc%2fpasswd",
    "/api/tickets/%00",
]


@pytest.mark.parametrize("who", ["anonymous", "tier2"])
def test_path_traversal_in_any_spelling_never_leaves_the_kb(hostile: LiveServer, who: str) -> None:
    """Extends test_http's test_path_traversal_never_serves_files with encodings, NUL bytes,
    backslashes, absolute paths and links out of the kb: nothing outside is ever served."""
    outside = _outside_relpath(hostile)
    absolute = str(hostile.kb_dir.resolve().parent.parent / "outside" / "secret.svg")
    headers = TIER2 if who == "tier2" else {}
    for template in TRAVERSALS:
        path = template.format(
            outside=outside,
            outside_quoted=quote(outside, safe=""),
            outside_absolute=absolute.lstrip("/"),
        )
        reply = raw(hostile, "GET", path, headers)
        assert reply.status != 500, path
        assert reply.status != 200 or "/tickets/" in path, (path, reply.status)
        for forbidden in (SECRET, "root:x:0:0", "[core]", "def create_app", "import "):
            assert forbidden not in reply.text, (path, forbidden)


# ---------------------------------------------------------------------- redirects

REDIRECT_TARGETS = [
    "//evil.example/",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x0b/evil.example",
    " //evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/\u3000/evil.example",
    "\t//evil.example",
]


def _same_site(server: LiveServer, location: str) -> bool:
    """Where a browser would go: tabs and newlines dropped, as browsers do."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip()
    parts = urlsplit(urllib.parse.urljoin(server.url + "/login", cleaned))
    return f"{parts.scheme}://{parts.netloc}" == server.url


@pytest.mark.parametrize("target", REDIRECT_TARGETS, ids=range(len(REDIRECT_TARGETS)))
def test_sign_in_and_feedback_never_redirect_off_site(hostile: LiveServer, target: str) -> None:
    """?next= after sign-in and the feedback form's return_to: never another site, and a
    newline in them is not a server error."""
    cookie, form_token = browser_session(hostile.url)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    sign_in = urllib.parse.urlencode({"token": TIER1_TOKEN, "csrf_token": form_token}).encode()
    vote = urllib.parse.urlencode(
        {"helpful": "yes", "return_to": target, "csrf_token": form_token}
    ).encode()
    signed = raw(
        hostile, "POST", "/login?" + urllib.parse.urlencode({"next": target}), form, sign_in
    )
    voted = raw(hostile, "POST", "/kb/KB-2001/feedback", form, vote)
    for reply in (signed, voted):
        assert reply.status == 302, (target, reply.status)
        assert _same_site(hostile, reply.headers["Location"]), (target, reply.headers["Location"])


# ---------------------------------------------------------------------- secrets in logs


def test_no_token_or_session_cookie_ever_reaches_the_log(hostile: LiveServer) -> None:
    """Right and wrong tokens, in headers and sign-in forms, on pages, the API and errors;
    then the log (at DEBUG) is searched for every token and the session cookie."""
    wrong = "wrong-token-that-must-not-be-logged-0123"
    tokens = [TIER1_TOKEN, TIER2_TOKEN, AUTHOR_TOKEN, ADMIN_TOKEN, wrong]
    browser, form_token = browser_session(hostile.url)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": browser}
    cookies = []
    for token in tokens:
        bearer = {"Authorization": f"Bearer {token}"}
        for path in (
            "/",
            "/api/search?q=vpn",
            "/kb/KB-2003",
            "/api/articles/KB-2003",
            "/problems",
            "/admin/insights",
            "/api/nothere",
            "/kb/nothere",
        ):
            assert get(hostile, path, bearer).status < 500
        assert raw(hostile, "GET", "/", {"Authorization": f"Basic {token}"}).status == 200
        assert raw(hostile, "GET", "/", {"Authorization": token}).status == 200
        posting = bearer | {"Content-Type": "application/json"}
        assert raw(hostile, "POST", "/api/suggest", posting, b'{"subject": ').status == 400
        assert raw(hostile, "POST", "/api/suggest", posting, b" " * 1_100_000).status == 413
        sign_in = urllib.parse.urlencode({"token": token, "csrf_token": form_token})
        signed = raw(hostile, "POST", "/login?next=/kb/KB-2003", form, sign_in.encode())
        if token == wrong:
            assert signed.status == 401
            continue
        assert signed.status == 302
        cookie = signed.headers["Set-Cookie"].split(";", 1)[0]
        cookies.append(cookie.partition("=")[2])
        for path in ("/", "/kb/KB-2003", "/api/autocomplete?q=etc", "/admin/insights"):
            assert get(hostile, path, {"Cookie": cookie}).status < 500
        page = get(hostile, "/", {"Cookie": cookie})  # its sign-out form carries a token
        cookie = page.headers.get("Set-Cookie", cookie).split(";", 1)[0]
        sign_out = form_posting_to(page.text, "/", "/logout")
        posted = raw(
            hostile,
            "POST",
            "/logout",
            form | {"Cookie": cookie},
            urllib.parse.urlencode(sign_out.fields).encode(),
        )
        assert posted.status == 302

    # the request log has caught up once our last request is in it
    text = wait_for_log(hostile, "/logout")
    assert "/logout" in text
    for secret in [*tokens, *cookies]:
        assert secret not in text, "a token or session cookie is in the server log"
    # nor any token's plain hash (the cookie carried one once; now it holds a random id)
    for token in tokens:
        assert hashlib.sha256(token.encode()).hexdigest() not in text
