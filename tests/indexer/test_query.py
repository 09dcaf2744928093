"""Query parsing: syntax for those who want it, and plain text for everything else."""

import pytest

from indexer.text.query import NOISY_NUMBER_WEIGHT, parse


def typed(query: str) -> list[str]:
    return [w for clause in parse(query).clauses for w in clause.typed]


def test_plain_words_are_all_optional_and_stop_words_dropped() -> None:
    parsed = parse("the printer is offline")
    assert typed("the printer is offline") == ["printer", "offline"]
    assert not any(c.required for c in parsed.clauses)


def test_operators_and_prefixes() -> None:
    parsed = parse('vpn AND certificate NOT expired -outlook +mfa "split tunnel"')
    required = {c.typed[0] for c in parsed.clauses if c.required}
    assert required == {"vpn", "certificate", "mfa"}
    assert {c.typed[0] for c in parsed.excluded} == {"expired", "outlook"}
    assert [p.text for p in parsed.required_phrases] == ["split tunnel"]
    assert {"split", "tunnel"} <= set(typed('"split tunnel"'))


def test_fields_and_filters() -> None:
    parsed = parse(
        'title:bitlocker error:0x80070005 tag:email system:"Exchange Online" type:resolution'
    )
    assert [(c.typed[0], c.fields) for c in parsed.clauses] == [
        ("bitlocker", ("title",)),
        ("0x80070005", ("error_codes",)),
    ]
    assert parsed.filters == {
        "tags": ("email",),
        "systems": ("Exchange Online",),
        "type": ("resolution",),
    }


@pytest.mark.parametrize(
    ("query", "word"),
    [
        (r"C:\Windows\System32\spoolsv.exe", r"C:\Windows\System32\spoolsv.exe"),
        ("sap:Active", "sap:Active"),
        ("Get-Mailbox -SkipErrors", "SkipErrors"),  # an option, not an exclusion
        ("[-1765328347] skew", "1765328347"),  # a negative error number
    ],
)
def test_things_that_look_like_syntax_but_are_not(query: str, word: str) -> None:
    assert word in typed(query)
    assert not parse(query).excluded


def test_log_line_noise_is_dropped_and_numbers_count_less() -> None:
    line = (
        "2026-11-02T09:14:33.120Z host42 sshd[2231]: KRB5KRB_AP_ERR_SKEW from 10.1.4.22 "
        "port 5543 req 3f2504e0-4f89-11d3-9a0c-0305e82c3301 at 0x00007ff6a1b2c3d4"
    )
    parsed = parse(line)
    words = typed(line)
    assert parsed.noisy
    assert "KRB5KRB_AP_ERR_SKEW" in words
    for noise in ("2026", "09", "2231", "10.1.4.22", "3f2504e0", "00007ff6a1b2c3d4"):
        assert not any(noise in w for w in words), noise
    number = next(c for c in parsed.clauses if c.typed == ("5543",))
    assert number.weight == NOISY_NUMBER_WEIGHT
    assert parse("event ID 4625").clauses[-1].weight == 1.0  # not a log line: full weight


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "AND",
        "NOT",
        "OR OR",
        "-",
        "+",
        "title:",
        ":",
        'tag:""',
        "((a)",
        "a" * 5000,
        "\x00\ud800",
        "🔥" * 10,
        "-- -- --",
        'title:"unclosed',
    ],
)
def test_malformed_input_never_raises(query: str) -> None:
    parse(query)


def test_repeated_words_count_once_and_length_is_bounded() -> None:
    assert typed("dns dns DNS dns") == ["dns"]
    assert len(parse(" ".join(f"w{i}" for i in range(500))).clauses) == 64
