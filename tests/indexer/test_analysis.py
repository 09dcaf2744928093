"""Support-text analysis: identifiers kept whole and split, hex normalised, prose stemmed."""

import pytest

from indexer.text.analysis import ANALYZERS, COMPOUND, prose_token_terms, split_identifier, terms

from ..conftest import ROOT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x80070005", ["80070005"]),
        ("0X80070005", ["80070005"]),
        ("80070005", ["80070005"]),
        ("ERROR_ACCESS_DENIED", ["error_access_denied", "error", "access", "denied"]),
        (
            "etcdHighFsyncDurations",
            ["etcdhighfsyncdurations", "etcd", "high", "fsync", "durations"],
        ),
        ("/etc/krb5.conf", ["etc/krb5.conf", "etc", "krb5", "conf"]),
        ("2FA", ["2fa", "fa"]),
        ("ORA-12154", ["ora-12154", "ora", "12154"]),
        ("KB5034441", ["kb5034441", "kb", "5034441"]),
        ("event 4625", ["event", "4625"]),
    ],
)
def test_identifiers_are_kept_whole_and_split(text: str, expected: list[str]) -> None:
    assert terms(text, "identifier") == expected


def test_prose_is_stemmed_and_stop_words_dropped() -> None:
    assert terms("Outlook keeps prompting for the passwords") == [
        "outlook",
        "keep",
        "prompt",
        "password",
    ]


def test_identifiers_are_not_stemmed_in_prose() -> None:
    # the whole identifier must match exactly; only its plain-word parts are stemmed
    assert terms("ERROR_ACCESS_DENIED")[0] == "error_access_denied"
    assert "deni" in terms("ERROR_ACCESS_DENIED")


def test_hex_in_any_spelling_gives_the_same_term() -> None:
    assert terms("0x80070005") == terms("80070005") == terms("0X80070005")


def test_punctuation_around_codes_is_not_part_of_them() -> None:
    assert terms("(0x80070005).", "identifier") == ["80070005"]


def test_split_identifier_offsets_point_into_the_word() -> None:
    word = "HTTPServerError"
    for offset, part in split_identifier(word):
        assert word[offset : offset + len(part)] == part


def test_absurdly_long_tokens_are_not_indexed() -> None:
    assert terms("a" * 500 + " normal") == ["normal"]


def test_one_token_is_analysed_as_the_prose_analyzer_does() -> None:
    """Snippets analyse tokens one at a time, past Whoosh's pipeline: to the same terms."""
    text = " ".join(path.read_text(encoding="utf-8") for path in (ROOT / "kb").rglob("*.md"))
    tokens = set(COMPOUND.findall(text)) | {"Isn't", "THE", "x" * 121, "Éléments", "0x8007"}
    for token in tokens:
        analysed = ANALYZERS["prose"](token, mode="index", removestops=False)
        assert prose_token_terms(token) == frozenset(t.text for t in analysed), token
