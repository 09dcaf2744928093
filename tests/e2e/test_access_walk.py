"""Every URL the app serves, walked as anonymous, tier 1 and tier 2: internal articles never leak.

The routes come from the app's own URL map, so a route added later is walked too; a route
whose URL this test cannot build fails the test, naming it, so no route goes unchecked.

The knowledge base holds three internal articles. Each puts its own marker word in every
place an article can carry text (title, body, a heading, tags, systems, error codes, an
alias, the owner, a code block, an image's file name, a custom key, a resolution step, the
file name) and names a ticket only internal articles name; each has a public twin sharing
most of its words, so related articles, spelling corrections, autocomplete and suggestions
are tempted to bring it up. Every request is sent with those markers, misspellings of them
(did you mean) and prefixes of them (autocomplete) in its query or body.

A leak is a marker, an internal id or an internal ticket id in the answer (body, any header,
a redirect's Location, the decoded session cookie) that the request itself did not carry.
The same walk as tier 2 must see them, which proves the check can see a leak.
"""

from __future__ import annotations

import html
import http.client
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

import pytest
from flask import Flask
from werkzeug.routing import BuildError, Rule

from server.app import create_app
from server.config import Config
from server.insights import REPORT_SLUGS

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import MARKER, TIER1_TOKEN, TIER2_TOKEN, git, make_kb_repo, write
from ..forms import browser_session, session_payload

NAMES = ("alpha", "bravo", "charlie")
FIELDS = (
    "title",
    "body",
    "heading",
    "tag",
    "system",
    "err",
    "alias",
    "owner",
    "code",
    "image",
    "extra",
    "step",
    "path",
)
INTERNAL_IDS = [f"KB-710{i}" for i in range(1, 4)]
PUBLIC_IDS = [f"KB-700{i}" for i in range(1, 4)]
INTERNAL_TICKETS = [f"INC-7700{i}" for i in range(1, 4)]
SHARED_TICKET = "INC-5000"  # named by the public and the internal articles alike
PUBLIC_TICKET = "INC-5001"

# Marker kinds outside the article's fields: a broken file, an SVG's text, a wrong token, a
# missing page.
OTHER_KINDS = ("broken", "svg", "token", "nothere")
# Anything that can only come from an internal article: our markers, the sample KB's
# internal article (KB-2003), the internal ids and the internal-only ticket ids. A marker is
# matched whole (kind and name), because random values in a page (a form's CSRF token) may
# hold "qvx" followed by anything.
INTERNAL = re.compile(
    rf"(?i)qvx(?:{'|'.join(FIELDS + OTHER_KINDS)})(?:{'|'.join(NAMES)}|x)"
    rf"|kb-710\d|inc-7700\d|{MARKER}|kb-2003|etcdhighfsyncdurations"
)


def marker(kind: str, name: str) -> str:
    return f"qvx{kind}{name}"


def misspelt(word: str) -> str:
    """One letter dropped near the end: close enough for "did you mean"."""
    return word[:-2] + word[-1]


INTERNAL_TITLES = {
    name: f"Vault unseal fails on the {marker('title', name)} cluster" for name in NAMES
}
PUBLIC_TITLES = (
    "Vault unseal fails on the staging cluster",
    "Vault stays sealed after the cluster nodes restart",
    "Vault operator unseal rejects the key shards",
)
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><title>{}</title></svg>'


def internal_article(index: int, name: str) -> str:
    m = {kind: marker(kind, name) for kind in FIELDS}
    return f"""---
id: {INTERNAL_IDS[index]}
title: {INTERNAL_TITLES[name]}
type: resolution
systems: [HashiCorp Vault, {m["system"]}]
tags: [vault, unseal, {m["tag"]}]
error_codes: ["{m["err"].upper()}-4711"]
tickets: [{INTERNAL_TICKETS[index]}, {SHARED_TICKET}]
audience: internal
owner: {m["owner"]}
reviewed: 2026-01-10
review_by: 2027-01-10
aliases: [{m["alias"]}]
custom_note: {m["extra"]}
---
## Symptoms

Vault stays sealed after the cluster nodes restart, and the {m["body"]} storage backend
reports that the unseal keys are rejected by the operator.

![Unseal diagram](img/{m["image"]}.svg)

## {m["heading"]} cause

The unseal key shards were rotated on the cluster without telling the keyholders.

```bash
vault operator unseal {m["code"]}
```

## Resolution

1. Run {m["step"]} to collect the key shards from the keyholders.
2. Unseal each cluster node with `vault operator unseal`.

See also [the public article](../public/vault-{index + 1}.md).
"""


def public_article(index: int) -> str:
    return f"""---
id: {PUBLIC_IDS[index]}
title: {PUBLIC_TITLES[index]}
type: resolution
systems: [HashiCorp Vault]
tags: [vault, unseal]
error_codes: ["VAULT-{index + 1}00"]
tickets: [{SHARED_TICKET}, {PUBLIC_TICKET}]
audience: public
owner: p.public
aliases: [KB-070{index + 1}]
---
## Symptoms

Vault stays sealed after the cluster nodes restart; the storage backend reports that the
unseal keys are rejected by the operator.

![Diagram](img/vault-{index + 1}.svg)

## Cause

The unseal key shards were rotated on the cluster without telling the keyholders.

## Resolution

1. Collect the key shards from the keyholders.
2. Unseal each cluster node with `vault operator unseal`.
"""


BROKEN = f"""---
id: KB-7109
title: [unclosed {marker("broken", "alpha")}
audience: internal
---
Body.
"""


def make_walk_kb(repo: Path) -> Path:
    """The sample KB plus three internal articles with markers and their public twins."""
    kb = make_kb_repo(repo)
    for index, name in enumerate(NAMES):
        write(kb, f"ops/{marker('path', name)}.md", internal_article(index, name))
        write(kb, f"ops/img/{marker('image', name)}.svg", SVG.format(marker("svg", name)))
        write(kb, f"public/vault-{index + 1}.md", public_article(index))
        write(kb, f"public/img/vault-{index + 1}.svg", SVG.format(f"vault {index + 1}"))
    write(kb, f"ops/{marker('broken', 'alpha')}.md", BROKEN)  # for /problems
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Internal vault articles and their public twins")
    return kb


# ---------------------------------------------------------------------- what to send

# Values for each URL converter argument, by name. A route with an argument not named here
# cannot be walked, and the test says so.
REFS = [
    *PUBLIC_IDS,
    "KB-0701",
    "public/vault-1",
    "public/vault-1.md",
    "KB-2001",
    *INTERNAL_IDS,
    "kb-7101",
    *(marker("alias", n) for n in NAMES),
    f"ops/{marker('path', 'alpha')}",
    f"ops/{marker('path', 'bravo')}.md",
    f"ops/{marker('broken', 'alpha')}",
    "KB-7109",
    "KB-2003",
    "k8s/etcd-fsync",
    "KB-9999",
    "no/such/article.md",
    marker("nothere", "x"),
]
UNKNOWN_REF = "KB-9999"
TICKETS = [*INTERNAL_TICKETS, "inc-77001", SHARED_TICKET, PUBLIC_TICKET, "INC-1001", "INC-0000"]
ASSETS = [
    *(f"ops/img/{marker('image', n)}.svg" for n in NAMES),
    "public/img/vault-1.svg",
    f"ops/{marker('path', 'alpha')}.md",
    "k8s/secret.svg",
    "public/img/nothere.svg",
]
UNKNOWN_ASSET = "public/img/nothere.svg"
FILLERS: dict[str, list[str]] = {
    "ref": REFS,
    "ticket": TICKETS,
    "relpath": ASSETS,
    "report": [*REPORT_SLUGS, "nothere"],
    "filename": ["kb.css", "kb.js", "nothere.css"],
}
UNKNOWN = {"ref": UNKNOWN_REF, "ticket": "INC-0000", "relpath": UNKNOWN_ASSET}


def _queries() -> list[tuple[str, dict[str, str]]]:
    """(probe, query string) pairs for the search endpoints. "marker", "misspelt" and "filter"
    queries ask for nothing but internal words, so they must find nothing at all."""
    alpha = {kind: marker(kind, "alpha") for kind in FIELDS}
    found: list[tuple[str, dict[str, str]]] = [("plain", {})]
    found += [("marker", {"q": word}) for word in alpha.values()]
    found += [
        ("marker", {"q": " ".join(marker(kind, n) for kind in FIELDS)})
        for n in ("bravo", "charlie")
    ]
    found += [
        ("marker", {"q": f"{alpha['err'].upper()}-4711"}),
        ("marker", {"q": INTERNAL_TICKETS[0]}),
        ("marker", {"q": INTERNAL_IDS[0]}),
        ("marker", {"q": f"title:{alpha['title']} OR body:{alpha['body']}"}),
        ("marker", {"q": MARKER}),
        ("mixed", {"q": INTERNAL_TITLES["alpha"]}),
        ("mixed", {"q": f'"{alpha["body"]} storage"'}),
    ]
    found += [
        ("misspelt", {"q": misspelt(marker(kind, n))})
        for kind in ("title", "body", "tag", "heading", "step")
        for n in NAMES[:2]
    ]
    found += [("mixed", {"q": f"vault {misspelt(alpha['body'])} cluster"})]
    found += [
        ("prefix", {"q": q})
        for q in (
            "qvx",
            "qvxt",
            "qvxtitle",
            "qvxer",
            "qvxta",
            "Vault unseal fails on the qvxt",
            "vault uns",
            "etcdH",
            "zanzib",
        )
    ]
    found += [
        ("shared-words", {"q": "vault unseal cluster keyholders"}),
        ("shared-words", {"q": "vault sealed", "sort": "updated", "limit": "100"}),
        ("shared-words", {"q": "vault", "page": "2", "limit": "1"}),
        ("browse", {"q": "", "limit": "100"}),
        ("filter", {"q": "", "tag": alpha["tag"]}),
        ("filter", {"q": "vault", "system": alpha["system"]}),
        ("filter", {"q": "", "tag": MARKER}),
        ("filter", {"q": f"tag:{alpha['tag']}"}),
        ("shared-words", {"q": "vault", "type": "resolution", "tag": "unseal"}),
    ]
    return found


QUERIES = _queries()
# Endpoints that read a query string get all of QUERIES; every other route without a path
# argument (including any added later) gets this sample of them.
SEARCHES = {"search.index", "help.index", "api.search", "api.autocomplete"}
SAMPLE = [
    QUERIES[0],
    QUERIES[2],
    ("misspelt", {"q": misspelt(marker("title", "alpha"))}),
    ("prefix", {"q": "qvxt"}),
    ("browse", {"q": "", "limit": "100"}),
]
TICKET_TEXT = {
    "subject": "Vault sealed again",
    "description": (
        f"User reports {marker('body', 'alpha')} errors after restart.\n"
        f"2026-11-14 10:23:05 vault: {marker('err', 'alpha').upper()}-4711 unseal rejected\n"
        f"see {INTERNAL_TICKETS[0]} and {marker('code', 'bravo')} {marker('step', 'charlie')}"
    ),
}
MARKER_TICKET = (  # nothing but internal words and log noise
    f"{marker('body', 'alpha')}\n2026-11-14 10:23:05 {marker('err', 'alpha').upper()}-4711\n"
    f"{INTERNAL_TICKETS[0]} {marker('code', 'bravo')} {marker('step', 'charlie')}"
)
JSON_BODIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "api.suggest": [
        ("mixed", TICKET_TEXT),
        ("mixed", {"subject": INTERNAL_TITLES["alpha"], "description": "", "limit": 20}),
        ("marker", {"subject": marker("title", "bravo"), "description": MARKER_TICKET}),
        ("misspelt", {"subject": misspelt(marker("body", "bravo")), "description": ""}),
        ("shared-words", {"subject": "Vault unseal", "description": "cluster keyholders shards"}),
    ],
    "api.feedback": [("marker", {"helpful": False, "comment": marker("body", "alpha")})],
}
FORM_BODIES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "auth.login": [
        ("marker", {"token": marker("token", "alpha")}),
        ("marker", {"token": TIER2_TOKEN}),  # a right token: only a redirect comes back
    ],
    "articles.feedback": [
        ("marker", {"helpful": "no", "comment": marker("body", "alpha")}),
    ],
}
GENERIC_JSON = {
    "subject": marker("title", "alpha"),
    "description": TICKET_TEXT["description"],
    "q": marker("body", "alpha"),
    "helpful": True,
    "comment": "x",
}
GENERIC_FORM = {
    "q": marker("body", "alpha"),
    "helpful": "yes",
    "comment": "x",
    "token": "not-a-token",
}


@dataclass(frozen=True)
class Probe:
    endpoint: str
    method: str
    path: str
    kind: str  # what the request tries: marker, misspelt, prefix, shared-words, ref, ...
    argument: str = ""  # the path argument's value, when the rule has one
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | None = None

    def echo(self) -> set[str]:
        """Internal-looking words the request itself carries: the answer may repeat them."""
        sent = " ".join(
            (unquote_plus(self.path), json.dumps(self.json_body), json.dumps(self.form))
        )
        return {t.lower() for t in INTERNAL.findall(sent)}


def _url_map_app(tmp: Path) -> Flask:
    """The app as `kb serve` builds it, only to read its URL map."""
    config = Config(kb_dir=tmp / "kb", index_dir=tmp / "index", activity_db=tmp / "a.sqlite3")
    return create_app(config)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def probes_for(app: Flask) -> tuple[list[Probe], list[str], int]:
    """Every request of the walk, the rules that could not be built, and the rule count."""
    adapter = app.url_map.bind("localhost")
    probes: list[Probe] = []
    unbuildable: list[str] = []
    rules = list(app.url_map.iter_rules())
    for rule in rules:
        arguments = sorted(rule.arguments)
        missing = [a for a in arguments if a not in FILLERS]
        if missing or len(arguments) > 1:
            unbuildable.append(
                f"{rule.rule} ({rule.endpoint}): no values for {missing or arguments}"
            )
            continue
        for method in _methods(rule):
            values = [{arguments[0]: v} for v in FILLERS[arguments[0]]] if arguments else [{}]
            for value in values:
                try:
                    path = adapter.build(rule.endpoint, value, method=method)
                except BuildError as exc:
                    unbuildable.append(f"{rule.rule} ({rule.endpoint}) with {value}: {exc}")
                    continue
                argument = next(iter(value.values()), "")
                probes += _requests(rule.endpoint, method, path, argument)
        if "DELETE" not in _methods(rule):  # the 405 page, once per route
            path = adapter.build(rule.endpoint, {a: FILLERS[a][0] for a in arguments})
            probes.append(Probe(rule.endpoint, "DELETE", path, "wrong-method"))
    for path in ("/no/such/page/KB-7101", "/api/no/such/thing?q=qvxtitlealpha", "/kb/"):
        probes.append(Probe("(no route)", "GET", path, "unknown-url"))
    return probes, unbuildable, len(rules)


def _requests(endpoint: str, method: str, path: str, argument: str) -> list[Probe]:
    if method == "GET":
        if argument:
            return [Probe(endpoint, method, path, "ref", argument)]
        queries = QUERIES if endpoint in SEARCHES else SAMPLE
        return [
            Probe(endpoint, method, path + ("?" + urlencode(q) if q else ""), kind)
            for kind, q in queries
        ]
    bodies = [
        Probe(endpoint, method, path, kind, argument, json_body=body)
        for kind, body in JSON_BODIES.get(endpoint, [("generic", GENERIC_JSON)])
    ]
    bodies += [
        Probe(endpoint, method, path, kind, argument, form=form)
        for kind, form in FORM_BODIES.get(endpoint, [("generic", GENERIC_FORM)])
    ]
    if endpoint == "auth.login":  # where a sign-in sends you next
        bodies.append(
            Probe(
                endpoint,
                method,
                path + "?next=/kb/KB-7101",
                "marker",
                argument,
                form={"token": TIER2_TOKEN},
            )
        )
    return bodies


# ---------------------------------------------------------------------- how to send it


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Visitor:
    """Who walks: a name, a role, the headers that make them who they are, and the browser
    session their forms are sent with (its cookie and the form token its pages carry)."""

    name: str
    role: str
    headers: dict[str, str] = field(default_factory=dict)
    form_session: tuple[str, str] = ("", "")

    def takes(self, probe: Probe) -> bool:
        """Signed-in browsers walk the pages and what the pages' script calls, but do not
        sign out (test_sessions.py does); API clients send a token (the cookie is read the
        same way on every route)."""
        if "Cookie" not in self.headers:
            return True
        if probe.endpoint == "auth.logout":
            return probe.kind == "wrong-method"
        return not probe.endpoint.startswith("api.") or probe.endpoint in (
            "api.search",
            "api.autocomplete",
        )


class Connection:
    """One keep-alive connection to the server; reconnects when the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=20)

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return Answer(response.status, response.getheaders(), data)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def request(conn: Connection, visitor: Visitor, probe: Probe) -> Answer:
    headers = dict(visitor.headers)
    body = None
    if probe.json_body is not None:
        body = json.dumps(probe.json_body).encode()
        headers["Content-Type"] = "application/json"
    elif probe.form is not None:
        cookie, token = visitor.form_session
        if cookie:
            headers.setdefault("Cookie", cookie)
        body = urlencode(probe.form | {"csrf_token": token}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return conn.send(probe.method, probe.path, headers, body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(server: LiveServer, name: str, role: str, token: str) -> Visitor:
    cookie, form_token = browser_session(server.url, token)
    return Visitor(name, role, {"Cookie": cookie}, (cookie, form_token))


RANDOM_IN_SESSION = ("visitor", "csrf", "sid")  # random ids, which may spell anything


def readable_session(cookie_header: str) -> str:
    """What the session cookie says (it is signed, not encrypted), without its random ids."""
    try:
        data = json.loads(session_payload(cookie_header))
    except ValueError:
        return ""
    for name in RANDOM_IN_SESSION:
        data.pop(name, None)
    return json.dumps(data)


def internal_words(answer: Answer) -> set[str]:
    """Internal-looking words anywhere in the answer: body, headers, decoded cookies."""
    text = answer.body.decode("utf-8", "replace")
    seen = [text, html.unescape(text), unquote_plus(text)]
    for name, value in answer.headers:
        if name.lower() == "set-cookie":  # signed and random: only its content can leak
            seen.append(readable_session(value))
        else:
            seen += [value, unquote_plus(value)]
    return {word.lower() for part in seen for word in INTERNAL.findall(part)}


# ---------------------------------------------------------------------- the walk


@dataclass
class Walk:
    requests: int = 0
    leaks: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    seen: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    statuses: dict[tuple[str, str, str], int] = field(default_factory=dict)
    bodies: dict[tuple[str, str, str], str] = field(default_factory=dict)
    totals: list[str] = field(default_factory=list)


def walk(server: LiveServer, visitor: Visitor, probes: list[Probe]) -> Walk:
    found = Walk()
    conn = Connection(server.url)
    try:
        for probe in filter(visitor.takes, probes):
            answer = request(conn, visitor, probe)
            found.requests += 1
            where = f"{visitor.name}: {probe.method} {probe.path} [{probe.kind}] -> {answer.status}"
            if answer.status >= 500:
                found.crashes.append(where)
            extra = internal_words(answer) - probe.echo()
            if extra:
                found.seen[(probe.endpoint, probe.kind)] |= extra
                if visitor.role != "tier2":
                    found.leaks.append(f"{where}: {sorted(extra)}")
            if probe.argument:
                key = (probe.endpoint, probe.method, probe.argument)
                found.statuses[key] = answer.status
                found.bodies[key] = answer.body.decode("utf-8", "replace").replace(
                    probe.argument, "<ref>"
                )
            _check_search_total(found, visitor, probe, answer, where)
    finally:
        conn.close()
    return found


def _check_search_total(
    found: Walk, visitor: Visitor, probe: Probe, answer: Answer, where: str
) -> None:
    """A search for words only internal articles hold finds nothing: not even a count."""
    content_type = dict((k.lower(), v) for k, v in answer.headers).get("content-type", "")
    if visitor.role == "tier2" or probe.kind not in ("marker", "misspelt", "filter"):
        return
    if answer.status != 200 or "json" not in content_type:
        return
    data = json.loads(answer.body)
    if isinstance(data, dict) and data.get("total"):
        found.totals.append(f"{where}: total {data['total']}")


# Where tier 2 must find internal words: proof that the walk would see each kind of leak.
TIER2_MUST_SEE = {
    ("search.index", "marker"),  # results page, snippets
    ("search.index", "shared-words"),  # internal hits among public ones
    ("search.index", "misspelt"),  # did you mean
    ("search.index", "browse"),  # facets
    ("api.search", "marker"),
    ("api.search", "misspelt"),
    ("api.search", "shared-words"),
    ("api.search", "browse"),
    ("api.autocomplete", "prefix"),
    ("api.suggest", "shared-words"),
    ("api.suggest", "misspelt"),
    ("api.related", "ref"),
    ("api.article", "ref"),
    ("api.version", "ref"),
    ("api.ticket", "ref"),
    ("articles.article", "ref"),  # pages and alias redirects
    ("articles.ticket", "ref"),
    ("articles.asset", "ref"),
    ("articles.history", "ref"),
    ("articles.problems", "plain"),
}


@pytest.fixture(scope="module")
def walk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("walk")
    server = start_server(
        make_walk_kb(root / "repo"),
        root / "index",
        root / "serve.log",
        KB_FEEDBACK_PER_HOUR="100000",
    )
    yield server
    stop_server(server)


def test_no_route_leaks_internal_articles_to_anonymous_or_tier1(
    walk_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole URL map, as five visitors; tier 2 proves the check sees what it looks for."""
    probes, unbuildable, rule_count = probes_for(_url_map_app(tmp_path))
    assert not unbuildable, (
        "routes the access walk cannot build a URL for (add values for their arguments to "
        "FILLERS in tests/e2e/test_access_walk.py):\n" + "\n".join(unbuildable)
    )
    visitors = [
        Visitor("anonymous", "anonymous", {}, browser_session(walk_server.url)),
        Visitor("tier1 (token)", "tier1", bearer(TIER1_TOKEN), browser_session(walk_server.url)),
        signed_in(walk_server, "tier1 (signed in)", "tier1", TIER1_TOKEN),
        Visitor("tier2 (token)", "tier2", bearer(TIER2_TOKEN), browser_session(walk_server.url)),
        signed_in(walk_server, "tier2 (signed in)", "tier2", TIER2_TOKEN),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        walks = dict(
            zip(
                (v.name for v in visitors),
                pool.map(lambda v: walk(walk_server, v, probes), visitors),
                strict=True,
            )
        )

    total = sum(w.requests for w in walks.values())
    endpoints = {p.endpoint for p in probes} - {"(no route)"}
    with capsys.disabled():
        print(
            f"\naccess walk: {rule_count} routes in the URL map, {len(endpoints)} walked; "
            f"{len(visitors)} visitors (anonymous, tier1 and tier2 each by token and signed in); "
            f"{len(probes)} requests per token visitor, {total} requests in all; "
            f"{len(NAMES)} internal articles x {len(FIELDS)} marker fields"
        )
    crashes = [c for w in walks.values() for c in w.crashes]
    assert not crashes, "server errors:\n" + "\n".join(crashes[:50])
    leaks = [leak for w in walks.values() for leak in w.leaks]
    assert not leaks, f"{len(leaks)} answers leak internal articles:\n" + "\n".join(leaks[:50])
    totals = [t for w in walks.values() for t in w.totals]
    assert not totals, "searches for internal-only words counted hits:\n" + "\n".join(totals)

    for name in ("anonymous", "tier1 (token)", "tier1 (signed in)"):
        _assert_hidden_looks_like_missing(walks[name], name)
    for visitor in visitors[-2:]:
        walked = {p.endpoint for p in probes if visitor.takes(p)}
        missed = sorted(m for m in TIER2_MUST_SEE - set(walks[visitor.name].seen) if m[0] in walked)
        assert not missed, f"{visitor.name} should have seen internal words here: {missed}"
    assert set(walks["tier2 (token)"].seen[("articles.article", "ref")]) >= {
        "kb-7101",
        marker("title", "alpha"),
        marker("body", "alpha"),
    }


def _assert_hidden_looks_like_missing(found: Walk, name: str) -> None:
    """An internal article's URL answers exactly as an article that does not exist."""
    hidden = [
        *INTERNAL_IDS,
        marker("alias", "alpha"),
        f"ops/{marker('path', 'alpha')}",
        INTERNAL_TICKETS[0],
        f"ops/img/{marker('image', 'alpha')}.svg",
    ]
    differ = []
    compared = Counter[str]()
    for (endpoint, method, argument), status in found.statuses.items():
        if argument not in hidden:
            continue
        unknown = next(
            (
                UNKNOWN[a]
                for a in UNKNOWN
                if found.statuses.get((endpoint, method, UNKNOWN[a])) is not None
            ),
            None,
        )
        if unknown is None:
            continue
        compared[endpoint] += 1
        other = found.statuses[(endpoint, method, unknown)]
        if status != other:
            differ.append(f"{method} {endpoint} {argument}: {status}, unknown: {other}")
        elif (
            found.bodies[(endpoint, method, argument)] != found.bodies[(endpoint, method, unknown)]
        ):
            differ.append(f"{method} {endpoint} {argument}: body differs from an unknown one")
    assert compared, "no internal reference was compared with an unknown one"
    assert not differ, f"{name} can tell internal articles from missing ones:\n" + "\n".join(differ)


def test_anonymous_cannot_count_internal_articles(walk_server: LiveServer) -> None:
    """/healthz's figures are the caller's: a count would tell how many internal articles exist."""
    conn = Connection(walk_server.url)
    try:
        visible = json.loads(conn.send("GET", "/api/search?q=&limit=1", {}, None).body)["total"]
        health = json.loads(conn.send("GET", "/healthz", {}, None).body)
    finally:
        conn.close()
    assert health.get("documents", visible) == visible
