"""End-to-end tests over HTTP against a real `kb serve` process (waitress + watcher).

Everything here is what a user or an integration would notice: the JSON shapes, status
codes, redirects, who sees what, and that the index follows the files on disk (edits,
renames, deletes, branch switches, and changes made while the service was stopped).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..conftest import LiveServer, start_server, stop_server, wait_until
from ..fixtures import MARKER, TIER2_TOKEN, git, make_kb_repo, write

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
WRONG_TOKEN = {"Authorization": "Bearer not-the-right-token-at-all"}
WATCH_TIMEOUT = 2.0  # a saved file must be searchable this quickly
GIT_TIMEOUT = 5.0  # a branch switch may take a little longer


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `kb serve` for the many read-only parametrized checks (nothing here edits files);
    tests that change the kb use the function-scoped ``live_server``."""
    root = tmp_path_factory.mktemp("shared")
    server = start_server(make_kb_repo(root / "repo"), root / "index", root / "serve.log")
    yield server
    stop_server(server)


# ---------------------------------------------------------------------- HTTP helpers


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes = field(repr=False)

    def json(self) -> Any:
        assert self.headers.get_content_type() == "application/json", (
            f"expected JSON, got {self.headers.get('Content-Type')}: {self.body[:200]!r}"
        )
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # surface 3xx as they are, so tests can check status and Location


_FOLLOW = urllib.request.build_opener()
_NO_FOLLOW = urllib.request.build_opener(_NoRedirect())


def fetch(
    server: LiveServer,
    path: str,
    headers: dict[str, str] | None = None,
    follow: bool = True,
) -> Reply:
    request = urllib.request.Request(server.url + path, headers=headers or {})
    opener = _FOLLOW if follow else _NO_FOLLOW
    try:
        with opener.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def raw_get(server: LiveServer, raw_path: str) -> Reply:
    """GET a path exactly as written (no client-side normalising of ``..`` or escapes)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", raw_path)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def search(server: LiveServer, q: str, headers: dict[str, str] | None = None, **params: Any):
    query = urllib.parse.urlencode({"q": q, **params})
    reply = fetch(server, f"/api/search?{query}", headers)
    assert reply.status == 200, reply.text
    return reply.json()


def ids(server: LiveServer, q: str, headers: dict[str, str] | None = None) -> list[str]:
    return [hit["id"] for hit in search(server, q, headers, limit=100)["results"]]


def indexed_paths(server: LiveServer) -> set[str]:
    """Every article path in the index, as someone who may see everything."""
    return {hit["path"] for hit in search(server, "", TIER2, limit=100)["results"]}


def disk_paths(kb_dir: Path) -> set[str]:
    return {p.relative_to(kb_dir).as_posix() for p in kb_dir.rglob("*.md")}


def article_md(article_id: str, title: str, body: str, audience: str = "public") -> str:
    return f"---\nid: {article_id}\ntitle: {title}\ntype: resolution\naudience: {audience}\n---\n{body}\n"


# ---------------------------------------------------------------------- 1. search shape

HIT_KEYS = {"id", "title", "path", "url", "type", "snippet", "score", "updated", "tags", "systems"}


def test_search_returns_documented_shape(live_server: LiveServer) -> None:
    data = search(live_server, "0x80070005")

    assert {"query", "total", "page", "results"} <= data.keys()
    assert data["query"] == "0x80070005"
    assert isinstance(data["total"], int) and data["total"] >= 1
    assert data["page"] == 1
    assert data["results"], "no results for the error code of KB-2001"
    for hit in data["results"]:
        assert hit.keys() >= HIT_KEYS, f"missing keys: {HIT_KEYS - hit.keys()}"
        assert isinstance(hit["score"], int | float)
        assert isinstance(hit["tags"], list) and isinstance(hit["systems"], list)

    first = data["results"][0]
    assert first["id"] == "KB-2001"
    assert first["title"] == "Windows Update fails with 0x80070005"
    assert first["path"] == "windows/update-0x80070005.md"  # relative to the kb root
    assert first["url"].endswith("/kb/KB-2001")
    assert first["url"].startswith("http")  # absolute: pasted into tickets and chat
    assert "<mark>" in first["snippet"]
    assert first["type"] == "resolution"
    assert first["tags"] == ["windows-update", "permissions"]
    assert first["systems"] == ["Windows 11"]
    assert first["updated"]  # from git


def test_search_filters_sorting_and_paging(live_server: LiveServer) -> None:
    everything = search(live_server, "", limit=100)
    assert everything["total"] == 3  # the public articles: KB-2001, KB-2002, the DNS note
    notes = search(live_server, "", type="config-note")
    assert [h["id"] for h in notes["results"]] == ["network/dns-forwarders"]
    assert [h["id"] for h in search(live_server, "", tag="EMAIL")["results"]] == ["KB-2002"]
    assert [h["id"] for h in search(live_server, "", system="windows 11")["results"]] == ["KB-2001"]
    assert search(live_server, "", tag="no-such-tag")["total"] == 0

    pages = [search(live_server, "", limit=1, page=n) for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [3, 3, 3, 3]
    seen = [h["id"] for p in pages for h in p["results"]]
    assert len(seen) == 3 and set(seen) == {h["id"] for h in everything["results"]}
    assert pages[3]["results"] == []  # past the end: empty, not an error

    by_date = search(live_server, "windows", sort="updated")
    assert by_date["total"] >= 1
    assert search(live_server, "x", limit=100)["page"] == 1  # the largest limit is allowed


# ---------------------------------------------------------------------- 2. bad input


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": "abc"},
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "1000"},
        {"q": "x", "page": "0"},
        {"q": "x", "page": "-1"},
        {"q": "x", "page": "1.5"},
        {"q": "x", "sort": "bogus"},
        {"q": "x", "page": "1001"},
        {"q": "x" * 4001},
    ],
    ids=[
        "limit=abc",
        "limit=0",
        "limit=1000",
        "page=0",
        "page=-1",
        "page=1.5",
        "sort=bogus",
        "page-window",
        "q-too-long",
    ],
)
def test_bad_parameters_are_400_with_json_error(shared_server: LiveServer, params: dict) -> None:
    reply = fetch(shared_server, "/api/search?" + urllib.parse.urlencode(params))

    assert reply.status == 400, reply.text
    error = reply.json()["error"]
    assert error["status"] == 400
    assert isinstance(error["message"], str) and error["message"]
    # the HTML page explains the same problem instead of failing
    page = fetch(shared_server, "/?" + urllib.parse.urlencode(params))
    assert page.status == 400
    assert "Something went wrong" not in page.text


STACK_TRACE = """Exception in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()"
\tat com.example.Foo.bar(Foo.java:42)
\tat com.example.Main.main(Main.java:7)
Caused by: System.UnauthorizedAccessException: Access to the path 'C:\\Windows\\Temp' is denied. (0x80070005)
"""

WEIRD_QUERIES = [
    '"',
    '""""',
    '"unclosed phrase',
    "AND OR NOT",
    "NOT",
    "(((",
    ")))",
    "*",
    "?",
    "field:",
    "title:foo",
    "title:",
    ":",
    "\\",
    "\\\\server\\share",
    "0x",
    "0x" + "f" * 300,
    "a" * 3000,
    "word " * 600,
    "ünïcödé straße",
    "日本語のエラー",
    "🔥💥 printer on fire 🖨️",
    "\u202e\u200b\ufeff",
    "\x00",
    "%00",
    "a\x00b",
    "%2e%2e/%2e%2e",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{}[]^~",
    "-",
    "+",
    "a-",
    "~~~~",
    "    ",
    STACK_TRACE,
]


@pytest.mark.parametrize("q", WEIRD_QUERIES, ids=[f"q{i}" for i in range(len(WEIRD_QUERIES))])
def test_weird_queries_never_fail(shared_server: LiveServer, q: str) -> None:
    encoded = urllib.parse.urlencode({"q": q})
    reply = fetch(shared_server, f"/api/search?{encoded}")

    assert reply.status == 200, reply.text
    data = reply.json()
    assert isinstance(data["total"], int)
    assert isinstance(data["results"], list)
    assert all("<script" not in hit["snippet"] for hit in data["results"])

    page = fetch(shared_server, f"/?{encoded}")
    assert page.status == 200, page.text
    assert "<script>alert(1)</script>" not in page.text  # the query is shown escaped


def test_stack_trace_query_finds_the_error_code_article(live_server: LiveServer) -> None:
    assert ids(live_server, STACK_TRACE)[:1] == ["KB-2001"]


# ---------------------------------------------------------------------- 3. live changes


def test_edit_is_searchable_within_two_seconds(live_server: LiveServer) -> None:
    word = "plumbusfrobnicate"
    assert ids(live_server, word) == []
    path = live_server.kb_dir / "email/outlook-prompt.md"
    path.write_text(path.read_text() + f"\nAlso seen together with {word} on shared mailboxes.\n")

    assert wait_until(lambda: ids(live_server, word) == ["KB-2002"], timeout=WATCH_TIMEOUT)
    article = fetch(live_server, "/api/articles/KB-2002").json()
    assert word in fetch(live_server, "/api/articles/KB-2002", TIER2).json()["markdown"]
    assert article["uncommitted"] is True


def test_new_file_becomes_searchable_and_deleted_file_disappears(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    word = "gronkulated"
    write(
        kb,
        "windows/bitlocker-recovery.md",
        article_md("KB-2100", "BitLocker asks for the recovery key", f"The {word} TPM."),
    )

    assert wait_until(lambda: ids(live_server, word) == ["KB-2100"], timeout=WATCH_TIMEOUT)
    assert fetch(live_server, "/kb/KB-2100").status == 200
    assert fetch(live_server, "/api/articles/KB-2100").json()["path"] == (
        "windows/bitlocker-recovery.md"
    )

    (kb / "windows/bitlocker-recovery.md").unlink()
    (kb / "email/outlook-prompt.md").unlink()

    assert wait_until(lambda: ids(live_server, word) == [], timeout=WATCH_TIMEOUT)
    assert wait_until(
        lambda: "KB-2002" not in ids(live_server, "Outlook password"), timeout=WATCH_TIMEOUT
    )
    for ref in ("KB-2100", "KB-2002"):
        assert fetch(live_server, f"/kb/{ref}").status == 404
        reply = fetch(live_server, f"/api/articles/{ref}")
        assert reply.status == 404
        assert reply.json()["error"]["status"] == 404


def test_new_file_in_new_folder_becomes_searchable(live_server: LiveServer) -> None:
    word = "snorfblattery"
    write(
        live_server.kb_dir,
        "vpn/anyconnect/cert-expired.md",
        article_md("KB-2101", "AnyConnect certificate expired", f"The {word} cert."),
    )

    assert wait_until(lambda: ids(live_server, word) == ["KB-2101"], timeout=WATCH_TIMEOUT)


OLD_PATH = "windows/update-0x80070005.md"


def _assert_moved(server: LiveServer, new: str) -> None:
    def moved() -> bool:
        hits = search(server, "0x80070005")["results"]
        return bool(hits) and hits[0]["id"] == "KB-2001" and hits[0]["path"] == new

    assert wait_until(moved, timeout=WATCH_TIMEOUT)
    assert search(server, "0x80070005")["total"] == 1  # moved, not duplicated
    reply = fetch(server, "/kb/KB-2001")
    assert reply.status == 200
    assert "Windows Update fails with 0x80070005" in reply.text
    assert fetch(server, "/api/articles/KB-2001").json()["path"] == new
    # the old path keeps working as a reference to the article
    gone = fetch(server, "/kb/" + OLD_PATH.removesuffix(".md"), follow=False)
    assert gone.status == 301
    assert gone.headers["Location"].endswith("/kb/KB-2001")


@pytest.mark.parametrize(
    ("how", "new"),
    [
        ("git-mv", "windows/access-denied-0x80070005.md"),
        ("git-mv", "network/update-0x80070005.md"),
        ("os-rename", "windows/access-denied-0x80070005.md"),
        ("os-rename", "network/update-0x80070005.md"),
    ],
)
def test_moved_article_keeps_its_permalink(live_server: LiveServer, how: str, new: str) -> None:
    kb = live_server.kb_dir
    if how == "git-mv":
        git(kb.parent, "mv", f"kb/{OLD_PATH}", f"kb/{new}")
    else:
        os.rename(kb / OLD_PATH, kb / new)
    _assert_moved(live_server, new)


def test_moved_and_committed_article_keeps_its_permalink(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    new = "windows/access-denied-0x80070005.md"
    git(kb.parent, "mv", f"kb/{OLD_PATH}", f"kb/{new}")
    git(kb.parent, "commit", "-q", "-m", "Rename the update article")
    _assert_moved(live_server, new)
    article = fetch(live_server, "/api/articles/KB-2001").json()
    assert wait_until(
        lambda: fetch(live_server, "/api/articles/KB-2001").json()["uncommitted"] is False,
        timeout=WATCH_TIMEOUT,
    ), article


def test_move_into_new_folder_keeps_article(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    new = "windows/updates/access-denied-0x80070005.md"
    write(kb, "vpn/new-folder-too.md", article_md("KB-2102", "VPN drops", "Reconnect."))
    (kb / "windows/updates").mkdir()
    os.rename(kb / OLD_PATH, kb / new)
    _assert_moved(live_server, new)
    time.sleep(1.0)  # the old path's deletion may arrive in a later batch
    assert fetch(live_server, "/kb/KB-2001").status == 200


def test_copy_then_delete_original_keeps_article(live_server: LiveServer) -> None:
    """Save As / cp + rm: for a moment two files carry the id, then the original goes."""
    kb = live_server.kb_dir
    new = "windows/access-denied-0x80070005.md"
    shutil.copy(kb / OLD_PATH, kb / new)
    assert wait_until(
        lambda: fetch(live_server, "/healthz", TIER2).json()["problems"] == 1, timeout=WATCH_TIMEOUT
    )
    (kb / OLD_PATH).unlink()

    def moved() -> bool:
        reply = fetch(live_server, "/api/articles/KB-2001")
        return reply.status == 200 and reply.json()["path"] == new

    assert wait_until(moved, WATCH_TIMEOUT)
    assert fetch(live_server, "/healthz", TIER2).json()["problems"] == 0


def test_renamed_article_without_id_redirects_from_old_url(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    assert fetch(live_server, "/kb/network/dns-forwarders").status == 200
    os.rename(kb / "network/dns-forwarders.md", kb / "network/dns-conditional-forwarders.md")

    assert wait_until(
        lambda: fetch(live_server, "/kb/network/dns-conditional-forwarders").status == 200,
        timeout=WATCH_TIMEOUT,
    )
    reply = fetch(live_server, "/kb/network/dns-forwarders", follow=False)
    assert reply.status == 301
    assert reply.headers["Location"].endswith("/kb/network/dns-conditional-forwarders")
    followed = fetch(live_server, "/kb/network/dns-forwarders")
    assert followed.status == 200
    assert "DNS conditional forwarders" in followed.text
    assert [h["path"] for h in search(live_server, "partner.example")["results"]] == [
        "network/dns-conditional-forwarders.md"
    ]


def test_folder_move_and_folder_delete(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    os.rename(kb / "windows", kb / "desktop-windows")

    def moved() -> bool:
        hits = search(live_server, "0x80070005")["results"]
        return [h["path"] for h in hits] == ["desktop-windows/update-0x80070005.md"]

    assert wait_until(moved, timeout=WATCH_TIMEOUT)
    assert fetch(live_server, "/kb/KB-2001").status == 200

    shutil.rmtree(kb / "email")
    assert wait_until(lambda: fetch(live_server, "/kb/KB-2002").status == 404, WATCH_TIMEOUT)
    assert "KB-2002" not in ids(live_server, "Outlook password")
    assert fetch(live_server, "/kb-files/email/img/flow.svg").status == 404
    assert wait_until(lambda: indexed_paths(live_server) == disk_paths(kb), WATCH_TIMEOUT)


def test_broken_edit_keeps_last_good_version(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    path = kb / "email/outlook-prompt.md"
    good = path.read_text()
    path.write_text(good.replace("tags: [email, authentication]", "tags: [email, authentication"))

    def problems() -> int:
        return fetch(live_server, "/healthz", TIER2).json()["problems"]

    assert wait_until(lambda: problems() == 1, timeout=WATCH_TIMEOUT)
    # still served and searchable as it was before the broken save
    assert fetch(live_server, "/kb/KB-2002").status == 200
    assert ids(live_server, "Outlook password")[:1] == ["KB-2002"]
    listing = fetch(live_server, "/problems", TIER2)
    assert listing.status == 200
    assert "email/outlook-prompt.md" in listing.text
    anonymous = fetch(live_server, "/problems", follow=False)  # not for anonymous readers
    assert anonymous.status == 302 and "/login" in anonymous.headers["Location"]

    word = "fixedagainzork"
    path.write_text(good + f"\n{word}\n")
    assert wait_until(lambda: ids(live_server, word) == ["KB-2002"], timeout=WATCH_TIMEOUT)
    assert problems() == 0


def test_duplicate_id_does_not_replace_the_original(live_server: LiveServer) -> None:
    kb = live_server.kb_dir
    write(
        kb,
        "windows/copy-of-update.md",
        article_md("KB-2001", "Copy of the update article", "duplicatedwibble"),
    )
    assert wait_until(
        lambda: fetch(live_server, "/healthz", TIER2).json()["problems"] == 1, timeout=WATCH_TIMEOUT
    )
    article = fetch(live_server, "/api/articles/KB-2001").json()
    assert article["path"] == "windows/update-0x80070005.md"
    assert article["title"] == "Windows Update fails with 0x80070005"
    assert ids(live_server, "duplicatedwibble") == []


# ---------------------------------------------------------------------- 4. git checkout


def test_index_follows_git_checkout(live_server: LiveServer) -> None:
    kb, repo = live_server.kb_dir, live_server.kb_dir.parent
    word = "branchonlyquux"
    git(repo, "checkout", "-q", "-b", "feature")
    write(
        kb,
        "windows/printer-mapping.md",
        article_md("KB-3001", "Mapped printers vanish at logon", f"The {word} GPO."),
    )
    write(kb, "storage/nas/quota.md", article_md("KB-3002", "NAS quota exceeded", "Quota."))
    (kb / "email/outlook-prompt.md").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature: printers in, outlook out")
    feature = disk_paths(kb)

    def follows_disk() -> bool:
        return indexed_paths(live_server) == disk_paths(kb)

    assert wait_until(follows_disk, timeout=GIT_TIMEOUT)
    assert ids(live_server, word) == ["KB-3001"]

    git(repo, "checkout", "-q", "main")
    main = disk_paths(kb)
    assert main != feature
    assert wait_until(follows_disk, timeout=GIT_TIMEOUT), (indexed_paths(live_server), main)
    assert ids(live_server, word) == []
    assert fetch(live_server, "/kb/KB-3001").status == 404
    assert "KB-2002" in ids(live_server, "Outlook password")
    assert fetch(live_server, "/kb/KB-2002").status == 200

    git(repo, "checkout", "-q", "feature")
    assert wait_until(follows_disk, timeout=GIT_TIMEOUT)
    assert indexed_paths(live_server) == feature
    assert ids(live_server, word) == ["KB-3001"]
    assert fetch(live_server, "/kb/KB-2002").status == 404
    article = fetch(live_server, "/api/articles/KB-3001").json()
    assert article["uncommitted"] is False
    assert article["commit"] == git(repo, "rev-parse", "HEAD").strip()

    git(repo, "checkout", "-q", "main")
    assert wait_until(follows_disk, timeout=GIT_TIMEOUT)
    assert indexed_paths(live_server) == main


# ---------------------------------------------------------------------- 5. while stopped


def test_changes_made_while_stopped_are_picked_up(kb_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "own-index"
    server = start_server(kb_dir, index_dir, tmp_path / "first.log")
    try:
        assert ids(server, "0x80070005")[:1] == ["KB-2001"]
    finally:
        stop_server(server)

    word = "offlineflurb"
    (kb_dir / "windows/update-0x80070005.md").unlink()
    path = kb_dir / "email/outlook-prompt.md"
    path.write_text(path.read_text().replace("Credential Manager", f"Credential Manager ({word})"))
    write(
        kb_dir,
        "printing/label-printer.md",
        article_md("KB-2200", "Label printer prints blank labels", "Recalibrate the sensor."),
    )
    os.rename(kb_dir / "network/dns-forwarders.md", kb_dir / "network/dns-partner-forwarders.md")

    server = start_server(kb_dir, index_dir, tmp_path / "second.log")
    try:
        assert wait_until(lambda: indexed_paths(server) == disk_paths(kb_dir), timeout=GIT_TIMEOUT)
        assert ids(server, word) == ["KB-2002"]
        assert ids(server, "blank labels")[:1] == ["KB-2200"]
        assert "KB-2001" not in ids(server, "0x80070005")
        assert fetch(server, "/kb/KB-2001").status == 404
        assert fetch(server, "/kb/network/dns-partner-forwarders").status == 200
        health = fetch(server, "/healthz", TIER2).json()
        assert health["documents"] == len(disk_paths(kb_dir))
    finally:
        stop_server(server)


# ---------------------------------------------------------------------- 6. access


def test_anonymous_never_sees_internal_article(live_server: LiveServer) -> None:
    reply = fetch(live_server, "/api/search?" + urllib.parse.urlencode({"q": MARKER}))
    assert reply.status == 200
    data = reply.json()
    assert data["total"] == 0
    assert data["results"] == []
    # the asker's own query is echoed back; nothing else in the answer may carry the marker
    assert data.pop("query") == MARKER
    assert MARKER not in json.dumps(data)

    for path in (
        "/kb/KB-2003",
        "/api/articles/KB-2003",
        "/kb/k8s/etcd-fsync",
        "/kb/k8s/etcd-fsync.md",
    ):
        reply = fetch(live_server, path)
        assert reply.status == 404, path
        assert MARKER not in reply.text
    # a 404 for an internal article looks exactly like one for a missing article
    assert fetch(live_server, "/api/articles/KB-2003").json() == (
        fetch(live_server, "/api/articles/KB-9999").json()
    )

    # other words of the internal article, browsing everything, and the HTML search page:
    # the marker appears nowhere in the whole body
    for path in (
        "/api/search?q=",
        "/api/search?q=etcd",
        "/api/search?q=etcdHighFsyncDurations",
        "/api/search?q=INC-1001",
        "/?q=etcd",
        "/?q=etcdHighFsyncDurations",
        "/",
        "/api/search?q=&limit=100&sort=updated",
    ):
        reply = fetch(live_server, path)
        assert reply.status == 200, path
        assert MARKER not in reply.text, path
        assert "KB-2003" not in reply.text, path
    # searching the marker on the HTML page shows "no results", and only echoes the query
    page = fetch(live_server, "/?" + urllib.parse.urlencode({"q": MARKER}))
    assert page.status == 200
    assert "KB-2003" not in page.text
    assert "etcdHighFsyncDurations" not in page.text
    assert "No articles match" in page.text


def test_tier2_token_sees_internal_article(live_server: LiveServer) -> None:
    data = search(live_server, MARKER, TIER2)
    assert [hit["id"] for hit in data["results"]] == ["KB-2003"]
    for path in ("/kb/KB-2003", "/api/articles/KB-2003"):
        reply = fetch(live_server, path, TIER2)
        assert reply.status == 200, path
        assert MARKER in reply.text


def test_wrong_token_sees_only_public(live_server: LiveServer) -> None:
    assert search(live_server, MARKER, WRONG_TOKEN)["total"] == 0
    assert fetch(live_server, "/kb/KB-2003", WRONG_TOKEN).status == 404
    assert fetch(live_server, "/api/articles/KB-2003", WRONG_TOKEN).status == 404
    assert fetch(live_server, "/kb-files/k8s/secret.svg", WRONG_TOKEN).status == 404
    tickets = fetch(live_server, "/api/tickets/INC-1001", WRONG_TOKEN).json()
    assert [a["id"] for a in tickets["articles"]] == ["KB-2001"]
    # still sees public articles
    assert ids(live_server, "0x80070005", WRONG_TOKEN)[:1] == ["KB-2001"]


def test_tickets_respect_audience(live_server: LiveServer) -> None:
    anonymous = fetch(live_server, "/api/tickets/INC-1001").json()
    assert anonymous["ticket"] == "INC-1001"
    assert [a["id"] for a in anonymous["articles"]] == ["KB-2001"]
    assert MARKER not in json.dumps(anonymous)

    tier2 = fetch(live_server, "/api/tickets/INC-1001", TIER2).json()
    assert sorted(a["id"] for a in tier2["articles"]) == ["KB-2001", "KB-2003"]
    for article in tier2["articles"]:
        assert article["url"].endswith(f"/kb/{article['id']}")

    # ticket ids are matched case-insensitively, and unknown tickets are just empty
    assert [a["id"] for a in fetch(live_server, "/api/tickets/inc-1001").json()["articles"]] == [
        "KB-2001"
    ]
    assert fetch(live_server, "/api/tickets/INC-0000").json()["articles"] == []


def test_internal_image_needs_tier2(live_server: LiveServer) -> None:
    assert fetch(live_server, "/kb-files/k8s/secret.svg").status == 404
    reply = fetch(live_server, "/kb-files/k8s/secret.svg", TIER2)
    assert reply.status == 200
    assert reply.body.startswith(b"<svg")
    # served so that an SVG cannot run script in our origin
    assert "sandbox" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "raw_path",
    [
        "/kb-files/../../etc/passwd",
        "/kb-files/%2e%2e/%2e%2e/etc/passwd",
        "/kb-files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/kb-files/..%2f..%2fetc%2fpasswd",
        "/kb-files//etc/passwd",
        "/kb-files/email/../../../../etc/passwd",
        "/kb-files/email/img/..%2f..%2f..%2f.git/config",
        "/kb-files/.git/config",
        "/kb-files/../.git/config",
        "/kb-files/email/outlook-prompt.md",
        "/kb-files/k8s/etcd-fsync.md",
        "/kb/../../etc/passwd",
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "tier2"])
def test_path_traversal_never_serves_files(
    shared_server: LiveServer, raw_path: str, who: str
) -> None:
    headers = TIER2 if who == "tier2" else {}
    for reply in (raw_get(shared_server, raw_path), fetch(shared_server, raw_path, headers)):
        assert reply.status != 200, reply
        assert b"root:" not in reply.body
        assert b"[core]" not in reply.body
        assert MARKER.encode() not in reply.body
        assert reply.status != 500


def test_facets_never_leak_internal_tags(live_server: LiveServer) -> None:
    def facet_values(data: dict) -> set[str]:
        return {item["value"] for values in data["facets"].values() for item in values}

    for q in ("", "etcd", "alert", "Kubernetes", MARKER):
        anonymous = search(live_server, q)
        assert MARKER not in facet_values(anonymous), q
        assert "etcd" not in facet_values(anonymous), q
        assert "Kubernetes" not in facet_values(anonymous), q
    # filtering by the internal tag finds nothing for anonymous, but does for tier 2
    assert fetch(live_server, f"/api/search?q=&tag={MARKER}").json()["total"] == 0
    assert search(live_server, "", TIER2, tag=MARKER)["total"] == 1
    # sanity: the tag really is a facet value for someone who may see it
    assert MARKER in facet_values(search(live_server, "", TIER2))


# ---------------------------------------------------------------------- 7. health


def test_healthz(live_server: LiveServer) -> None:
    reply = fetch(live_server, "/healthz", TIER2)
    assert reply.status == 200
    data = reply.json()
    assert data["status"] == "ok"
    assert isinstance(data["documents"], int) and not isinstance(data["documents"], bool)
    assert data["documents"] == 5  # every .md file of the sample KB
    assert fetch(live_server, "/healthz").json()["documents"] == 3  # anonymous: public ones
    assert isinstance(data["pending"], int) and data["pending"] >= 0
    assert "last_indexed" in data

    # the start-up catch-up runs in the background; once done, last_indexed is a UTC time
    def last_indexed() -> str | None:
        return fetch(live_server, "/healthz", TIER2).json()["last_indexed"]

    first = wait_until(last_indexed, timeout=WATCH_TIMEOUT)
    assert dt.datetime.fromisoformat(first).tzinfo is not None
    assert wait_until(lambda: fetch(live_server, "/healthz", TIER2).json()["pending"] == 0)

    # an edit moves it forward
    path = live_server.kb_dir / "email/outlook-prompt.md"
    path.write_text(path.read_text() + "\nOne more line.\n")
    later = wait_until(lambda: (v := last_indexed()) != first and v, timeout=WATCH_TIMEOUT)
    assert dt.datetime.fromisoformat(later) > dt.datetime.fromisoformat(first)
    assert fetch(live_server, "/healthz", TIER2).json()["documents"] == 5


def test_healthz_knows_last_indexed_right_after_first_build(live_server: LiveServer) -> None:
    assert fetch(live_server, "/healthz", TIER2).json()["last_indexed"] is not None


# ---------------------------------------------------------------------- 8. aliases


@pytest.mark.parametrize(
    "ref",
    ["KB-0999", "kb-2001", "kb-0999", "windows/update-0x80070005", "windows/update-0x80070005.md"],
)
def test_aliases_redirect_to_permalink(shared_server: LiveServer, ref: str) -> None:
    reply = fetch(shared_server, f"/kb/{ref}", follow=False)
    assert reply.status == 301
    assert reply.headers["Location"].endswith("/kb/KB-2001")
    followed = fetch(shared_server, f"/kb/{ref}")
    assert followed.status == 200
    assert "Windows Update fails with 0x80070005" in followed.text


def test_api_alias_redirects(live_server: LiveServer) -> None:
    reply = fetch(live_server, "/api/articles/KB-0999", follow=False)
    assert reply.status == 301
    assert reply.headers["Location"].endswith("/api/articles/KB-2001")


def test_permalink_itself_does_not_redirect(live_server: LiveServer) -> None:
    assert fetch(live_server, "/kb/KB-2001", follow=False).status == 200


# ---------------------------------------------------------------------- 9. rendering


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pairs.extend((name, value or "") for name, value in attrs)


def _parse_attributes(html: str) -> list[tuple[str, str]]:
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    return parser.pairs


def _attribute_values(html: str) -> list[str]:
    return [v for n, v in _parse_attributes(html) if n in ("href", "src", "action", "formaction")]


def _attribute_names(html: str) -> list[str]:
    return [n for n, _ in _parse_attributes(html)]


def test_rendered_article_is_safe_and_links_resolve(live_server: LiveServer) -> None:
    reply = fetch(live_server, "/api/articles/KB-2002")
    assert reply.status == 200
    article = reply.json()
    html = article["html"]

    assert "<script" not in html.lower()
    assert "alert('xss')" not in html
    # no URL in the rendered body uses javascript: (the Markdown `[bad link](javascript:...)`
    # is refused as a link by the parser; at most its inert source text remains)
    urls = _attribute_values(html)
    assert urls, "no links or images found at all"
    assert not [u for u in urls if u.replace(" ", "").lower().startswith("javascript:")]
    assert 'href="javascript:' not in html.lower()
    assert not [u for u in _attribute_names(html) if u.startswith("on")]  # no event handlers
    assert 'href="/kb/KB-2001#cause"' in html
    assert 'src="/kb-files/email/img/flow.svg"' in html
    assert [t["anchor"] for t in article["toc"]] == ["symptoms", "resolution"]

    image = fetch(live_server, "/kb-files/email/img/flow.svg")
    assert image.status == 200
    assert image.body.startswith(b"<svg")

    # the linked anchor exists on the target page
    target = fetch(live_server, "/kb/KB-2001")
    assert 'id="cause"' in target.text

    # the HTML page carries the same safe body and a strict CSP
    page = fetch(live_server, "/kb/KB-2002")
    assert page.status == 200
    assert "alert('xss')" not in page.text
    assert not [u for u in _attribute_values(page.text) if "javascript:" in u.lower()]
    assert page.text.count("<script") == 1  # only our own kb.js
    assert '<script src="/static/kb.js"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_are_served(live_server: LiveServer) -> None:
    for path, kind in (
        ("/static/kb.css", "text/css"),
        ("/static/kb.js", "javascript"),
        ("/static/pygments.css", "text/css"),
    ):
        reply = fetch(live_server, path)
        assert reply.status == 200, path
        assert kind in reply.headers["Content-Type"], path


def test_unknown_api_path_is_json_404(live_server: LiveServer) -> None:
    reply = fetch(live_server, "/api/nope")
    assert reply.status == 404
    assert reply.json()["error"]["status"] == 404
