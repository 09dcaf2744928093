"""What the red team did to a real `kb serve` (issue 16), done again: it must be refused
now, while people using the pages, and API clients, notice nothing.

Two servers: one reached directly, where forwarding headers are anyone's to send and must
be ignored, and one behind a trusted proxy (``KB_TRUSTED_PROXY=127.0.0.1``), where
X-Forwarded-For names the client; each test there speaks for clients of its own.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import ADMIN_TOKEN, TIER2_TOKEN, make_kb_repo
from ..forms import Browser, Reply, form_posting_to

PER_HOUR = 5  # KB_FEEDBACK_PER_HOUR on both servers
FAILED_SIGN_INS = 10  # allowed per client address and minute


def _server(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> LiveServer:
    root = tmp_path_factory.mktemp(name)
    return start_server(
        make_kb_repo(root / "repo"),
        root / "index",
        root / "serve.log",
        KB_FEEDBACK_PER_HOUR=str(PER_HOUR),
        **env,
    )


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = _server(tmp_path_factory, "direct")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = _server(tmp_path_factory, "proxied", KB_TRUSTED_PROXY="127.0.0.1")
    yield server
    stop_server(server)


def client(server: LiveServer, address: str, **headers: str) -> Browser:
    """A browser whose requests the proxy forwards for ``address``."""
    return Browser(server.url, {"X-Forwarded-For": address} | headers)


def cookie_flags(reply: Reply) -> set[str]:
    header = reply.headers["set-cookie"]
    return {part.strip().lower() for part in header.split(";")[1:]}


def not_helpful(server: LiveServer, article_id: str) -> int:
    """The "not helpful" votes an admin sees for the article."""
    status, body = server.get(
        "/admin/insights/least-helpful.csv", {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert status == 200
    rows = csv.DictReader(io.StringIO(body.decode()))
    return sum(int(row["not helpful"]) for row in rows if row["id"] == article_id)


# ---------------------------------------------------------------------- feedback (finding 4)


def test_forty_form_posts_without_a_cookie_store_nothing(direct: LiveServer) -> None:
    """The red team's curl loop: 40 "not helpful" votes from one client were all stored."""
    curl = Browser(direct.url)
    for _ in range(40):
        curl.forget_cookies()
        refused = curl.post_form("/kb/KB-2001/feedback", {"helpful": "no"})
        assert refused.status == 400
        assert "reload the page" in refused.text
    assert not_helpful(direct, "KB-2001") == 0


def test_a_client_that_discards_cookies_gets_the_hourly_limit(direct: LiveServer) -> None:
    """Following the form each time with an empty cookie jar (a new visitor every time),
    and making up X-Forwarded-For, which nobody asked the server to believe."""
    curl = Browser(direct.url)
    for n in range(PER_HOUR + 3):
        curl.forget_cookies()
        curl.headers["X-Forwarded-For"] = f"198.51.100.{n}"
        sent = curl.submit("/kb/KB-2002", "/kb/KB-2002/feedback", helpful="no")
        assert sent.status == 302
    assert not_helpful(direct, "KB-2002") == PER_HOUR
    assert "enough feedback" in curl.get(sent.headers["location"]).text
    curl.forget_cookies()
    curl.get("/kb/KB-2001")  # a fresh cookie does not reopen the API either
    assert curl.post_json("/api/articles/KB-2001/feedback", {"helpful": False}).status == 429


def test_the_hourly_limit_is_per_client_behind_the_proxy(proxied: LiveServer) -> None:
    noisy = client(proxied, "203.0.113.10")
    for _ in range(PER_HOUR + 2):
        noisy.forget_cookies()
        assert noisy.submit("/kb/KB-2002", "/kb/KB-2002/feedback", helpful="no").status == 302
    assert not_helpful(proxied, "KB-2002") == PER_HOUR
    colleague = client(proxied, "203.0.113.11")
    assert colleague.submit("/kb/KB-2002", "/kb/KB-2002/feedback", helpful="no").status == 302
    assert not_helpful(proxied, "KB-2002") == PER_HOUR + 1


# ---------------------------------------------------------------------- sign-in (finding 8)


def _wrong_tokens(browser: Browser, count: int) -> list[Reply]:
    page = browser.get("/login")
    assert page.status == 200
    form = form_posting_to(page.text, "/login", "/login")
    return [
        browser.post_form(form.action, form.filled(token=f"guess-{n:06d}")) for n in range(count)
    ]


def test_failed_sign_ins_are_limited_per_client_and_never_slow_others(
    proxied: LiveServer,
) -> None:
    """The red team sent 200 wrong tokens in 2 s: now the 11th in a minute answers 429
    with Retry-After, even for the right token, and other clients sign in as before."""
    guesser = client(proxied, "203.0.113.20")
    started = time.monotonic()
    answers = _wrong_tokens(guesser, 200)
    took = time.monotonic() - started
    statuses = [a.status for a in answers]
    assert statuses[:FAILED_SIGN_INS] == [401] * FAILED_SIGN_INS
    assert set(statuses[FAILED_SIGN_INS:]) == {429}
    assert all(1 <= int(a.headers["retry-after"]) <= 60 for a in answers[FAILED_SIGN_INS:])
    assert "too many" in answers[-1].text.lower()
    right = guesser.submit("/login", "/login", token=TIER2_TOKEN)
    assert right.status == 429

    colleague = client(proxied, "203.0.113.21")
    started = time.monotonic()
    signed = colleague.submit("/login", "/login", token=TIER2_TOKEN)
    waited = time.monotonic() - started
    assert signed.status == 302 and colleague.get("/kb/KB-2003").status == 200
    assert waited < 1.0, f"a colleague's sign-in took {waited:.2f} s"
    print(
        f"\n200 wrong tokens in {took:.2f} s: {statuses.count(401)} x 401, "
        f"{statuses.count(429)} x 429; another client signed in in {waited * 1000:.0f} ms"
    )


def test_guesses_sent_in_parallel_do_not_overtake_the_count(proxied: LiveServer) -> None:
    guesser = client(proxied, "203.0.113.22")
    form = form_posting_to(guesser.get("/login").text, "/login", "/login")

    def guess(n: int) -> int:
        return guesser.post_form(form.action, form.filled(token=f"parallel-{n}")).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(60)))
    assert (statuses.count(401), statuses.count(429)) == (FAILED_SIGN_INS, 60 - FAILED_SIGN_INS)


def test_the_cookie_is_secure_when_the_trusted_proxy_says_https(proxied: LiveServer) -> None:
    secure = client(proxied, "203.0.113.30", **{"X-Forwarded-Proto": "https"})
    flags = cookie_flags(secure.submit("/login", "/login", token=TIER2_TOKEN))
    assert {"secure", "httponly", "samesite=lax"} <= flags
    plain = client(proxied, "203.0.113.31", **{"X-Forwarded-Proto": "http"})
    flags = cookie_flags(plain.submit("/login", "/login", token=TIER2_TOKEN))
    assert "secure" not in flags and {"httponly", "samesite=lax"} <= flags


def test_forwarding_headers_from_anyone_else_are_ignored(direct: LiveServer) -> None:
    """Without a trusted proxy, X-Forwarded-Proto does not make a cookie Secure (a browser
    on plain http would drop it) and a new X-Forwarded-For each time escapes no limit."""
    claims = Browser(direct.url, {"X-Forwarded-Proto": "https"})
    flags = cookie_flags(claims.submit("/login", "/login", token=TIER2_TOKEN))
    assert "secure" not in flags
    statuses = []
    for n in range(FAILED_SIGN_INS + 2):
        claims.headers["X-Forwarded-For"] = f"192.0.2.{n}"
        statuses += [a.status for a in _wrong_tokens(claims, 1)]
    assert statuses[-2:] == [429, 429]
