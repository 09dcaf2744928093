"""Forms as a browser without JavaScript finds them, and a client that keeps cookies like one.

Tests submit the forms a page really carries (its action and its hidden fields, such as a
CSRF token) instead of guessing what the server expects, so they break when a page does.
"""

from __future__ import annotations

import base64
import http.client
import json
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)

    def filled(self, **values: str) -> dict[str, str]:
        """The form's own fields (hidden ones included) with ``values`` typed in."""
        return self.fields | values


class _FormParser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_path, found.get("action") or self.page_path)
            self.forms.append(Form(action, found.get("method", "get").lower()))
        elif tag in ("input", "textarea") and self.forms and self._fills(found):
            self.forms[-1].fields[found["name"]] = found.get("value", "")

    @staticmethod
    def _fills(control: dict[str, str]) -> bool:
        """Whether a control is sent as a field (buttons only name the one clicked)."""
        return bool(control.get("name")) and control.get("type") not in ("submit", "button")


def forms_on(page: str, page_path: str) -> list[Form]:
    """Every form of an HTML page served at ``page_path`` (actions resolved against it)."""
    parser = _FormParser(page_path)
    parser.feed(page)
    return parser.forms


def form_posting_to(page: str, page_path: str, action: str) -> Form:
    """The page's POST form whose action path ends with ``action``."""
    for form in forms_on(page, page_path):
        if form.method == "post" and urlsplit(form.action).path.endswith(action):
            return form
    raise AssertionError(f"no form posting to {action} on {page_path}")


def session_payload(cookie: str) -> str:
    """The readable content of Flask's session cookie (signed, not encrypted): what anyone
    holding the cookie can read. ``cookie`` is its value, or a whole Set-Cookie header."""
    value = cookie.split(";", 1)[0].rpartition("=")[2].strip('"')
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return (zlib.decompress(raw) if compressed else raw).decode()
    except (ValueError, zlib.error):
        return ""


def submit(client: Any, page_path: str, action: str, **values: str) -> Any:
    """With Flask's test client: open ``page_path`` and send its form posting to ``action``."""
    page = client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code)
    form = form_posting_to(page.text, page_path, action)
    return client.post(form.action, data=form.filled(**values))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lowercase names; Set-Cookie values joined by newlines
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    """A plain HTTP client for a real server that keeps its session cookie (as a browser
    does) unless told to forget it, sends ``headers`` with every request and never follows
    redirects, so tests see each answer as it is."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = self.headers | (headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            conn.close()
        for cookie in cookies:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        answer = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
        if cookies:
            answer["set-cookie"] = "\n".join(cookies)
        return Reply(response.status, answer, data)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_form(self, path: str, values: dict[str, str]) -> Reply:
        return self.request(
            "POST",
            path,
            urlencode(values).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_json(self, path: str, body: Any) -> Reply:
        return self.request(
            "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )

    def submit(self, page_path: str, action: str, **values: str) -> Reply:
        """Open ``page_path`` and send its form posting to ``action``, as a person would."""
        page = self.get(page_path)
        assert page.status == 200, (page_path, page.status)
        form = form_posting_to(page.text, page_path, action)
        return self.post_form(form.action, form.filled(**values))

    def forget_cookies(self) -> None:
        self.cookies.clear()


def browser_session(url: str, token: str | None = None) -> tuple[str, str]:
    """A browser's Cookie header for the server at ``url`` and the form token its pages
    carry: signed in through /login as a person would (with ``token``), or (without) an
    anonymous reader's."""
    browser = Browser(url)
    if token is not None:
        assert browser.submit("/login", "/login", token=token).status == 302
    form = form_posting_to(browser.get("/login").text, "/login", "/login")
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return cookie, form.fields["csrf_token"]
