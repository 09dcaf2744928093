"""Who may see what: roles from tokens, sign-in and a trusted proxy, guarded pages."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..fixtures import ADMIN_TOKEN, MARKER, TIER1_TOKEN, TIER2_TOKEN
from ..forms import submit


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tier1_sees_public_articles_only_and_tier2_sees_internal(client: FlaskClient) -> None:
    assert client.get(f"/api/search?q={MARKER}", headers=bearer(TIER1_TOKEN)).json["total"] == 0
    assert client.get(f"/api/search?q={MARKER}", headers=bearer(TIER2_TOKEN)).json["total"] == 1
    assert client.get("/kb/KB-2003", headers=bearer(TIER1_TOKEN)).status_code == 404
    assert client.get("/kb/KB-2003", headers=bearer(TIER2_TOKEN)).status_code == 200
    assert client.get("/kb/KB-2003", headers=bearer(ADMIN_TOKEN)).status_code == 200


def test_admin_pages_need_the_admin_role(client: FlaskClient) -> None:
    page = client.get("/admin/insights")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/admin/insights"
    csv = client.get("/admin/insights/top-queries.csv", headers=bearer(TIER2_TOKEN))
    assert csv.status_code == 403
    assert "admin role" in csv.text
    assert client.get("/admin/insights", headers=bearer(TIER1_TOKEN)).status_code == 403
    assert client.get("/admin/insights", headers=bearer(ADMIN_TOKEN)).status_code == 200


def test_problems_page_is_for_tier2_and_above(client: FlaskClient) -> None:
    assert client.get("/problems", headers=bearer(TIER1_TOKEN)).status_code == 403
    assert client.get("/problems", headers=bearer(ADMIN_TOKEN)).status_code == 200


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    signed = submit(client, "/login?next=/admin/insights", "/login", token=ADMIN_TOKEN)
    assert signed.headers["Location"] == "/admin/insights"
    assert client.get("/admin/insights").status_code == 200
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        away = submit(client, f"/login?next={target}", "/login", token=ADMIN_TOKEN)
        assert away.headers["Location"] == "/"


def test_proxy_headers_are_ignored_unless_configured(client: FlaskClient) -> None:
    spoofed = {"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "kb-admins"}
    assert client.get("/kb/KB-2003", headers=spoofed).status_code == 404
    assert client.get("/admin/insights", headers=spoofed).status_code == 302


def test_proxy_user_and_groups_give_roles(client_with) -> None:  # type: ignore[no-untyped-def]
    client = client_with(
        proxy_user_header="X-Forwarded-User",
        proxy_role="tier1",
        proxy_groups_header="X-Forwarded-Groups",
        proxy_group_roles="cn=kb:admins,ou=groups:admin, helpdesk:tier2",
    )
    user = {"X-Forwarded-User": "sam"}
    assert client.get("/kb/KB-2003", headers=user).status_code == 404  # tier1 by default
    tier2 = user | {"X-Forwarded-Groups": "staff, helpdesk"}
    assert client.get("/kb/KB-2003", headers=tier2).status_code == 200
    assert client.get("/admin/insights", headers=tier2).status_code == 403
    admin = user | {"X-Forwarded-Groups": "cn=kb:admins,ou=groups"}
    assert client.get("/admin/insights", headers=admin).status_code == 200
    assert (
        client.get("/admin/insights", headers={"X-Forwarded-Groups": "helpdesk"}).status_code == 302
    )
