"""How a ticket's text is read: what counts, what counts less, and what is not about the problem."""

from __future__ import annotations

from indexer.search.tickets import MAX_TICKET_WORDS, ticket_query

MAIL = """Hello team,

hope you had a good weekend. Since Thursday the sales laptops can't connect to the VPN.
They show Error 787 and the L2TP connection fails, error 787 again after a reboot.

Thanks a lot,
Maria Lopez
IT Coordinator, Fabrikam UK
Tel +44 113 496 0123
This e-mail and any attachments are confidential and intended solely for the addressee.

-----Original Message-----
From: Dave Smith
printers at the Leeds office are offline
"""
FORWARDED = """The mail server logs this for every message from the scanner:

From: scanner@example.com
smtp relay rejected, 550 5.7.1 unable to relay

From: Dave Smith <dave@example.com>
Sent: Monday, 3 March 2026 09:12
earlier: printers offline
"""


def _weights(subject: str, description: str) -> dict[str, float]:
    return {c.typed[0].lower(): c.weight for c in ticket_query(subject, description).clauses}


def test_greetings_signatures_and_disclaimers_are_not_searched() -> None:
    weights = _weights("VPN fails", MAIL)
    for word in ("hello", "team", "maria", "lopez", "coordinator", "fabrikam", "confidential"):
        assert word not in weights, word
    assert {"laptops", "l2tp", "787"} <= weights.keys()


def test_quoted_earlier_mail_counts_less_than_the_new_text() -> None:
    weights = _weights("VPN fails", MAIL)
    assert 0 < weights["printers"] < weights["laptops"]


def test_the_subject_counts_most_and_repetition_counts_less_and_less() -> None:
    weights = _weights("VPN fails", MAIL)
    assert weights["vpn"] > weights["787"] > weights["laptops"]
    assert weights["787"] < 2 * weights["laptops"]  # said twice, not worth two words


def test_ticket_words_are_never_query_syntax() -> None:
    query = ticket_query("NOT working: title:outlook", '-outlook AND +excel type:howto "quoted')
    assert not query.excluded and not query.filters and not query.phrases
    assert all(not c.required and c.fields is None for c in query.clauses)
    assert {"outlook", "excel", "working"} <= {c.typed[0].lower() for c in query.clauses}


def test_pages_of_pasted_logs_make_a_bounded_query() -> None:
    log = "\n".join(
        f"2024-03-01 10:00:{i % 60:02d} host{i} svc{i * 7} failed" for i in range(20_000)
    )
    assert len(ticket_query("service keeps failing", log).clauses) <= MAX_TICKET_WORDS


def test_a_from_line_in_a_log_is_not_quoted_mail_but_a_mail_header_is() -> None:
    weights = _weights("scanner mails bounce", FORWARDED)
    assert weights["smtp"] == weights["rejected"] == 1.0  # after "From: scanner@..."
    assert 0 < weights["printers"] < 1.0  # after a From: / Sent: header
