"""Build the example graphs in `resources/examples/` with the model's own edits.

Run `python tools/make_examples.py [FOLDER]` after changing an example (or the
file format); it rewrites every `.gsg` file, byte for byte the same when
nothing changed. `tests/model/test_examples.py` checks the committed files
are what this script writes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so the script runs from a checkout without installing GradStudio

from gradstudio.model.annotations import AddAnnotation, Annotation  # noqa: E402
from gradstudio.model.document import Edge, GraphDocument, Node  # noqa: E402
from gradstudio.model.edits import AddNode, Connect, MoveNode, SetSetting  # noqa: E402
from gradstudio.model.io.fileformat import save  # noqa: E402
from gradstudio.model.lesson import Hidden, SetHidden  # noqa: E402
from gradstudio.model.train_settings import TrainSettings  # noqa: E402

EXAMPLES_FOLDER = ROOT / "resources" / "examples"
COLUMN_WIDTH = 220.0
BROADCAST_COLUMN_WIDTH = 300.0
ROW_HEIGHT = 150.0  # a node plus the gradient badge Backward hangs under it


class GraphBuilder:
    """Adds nodes by variable name and wires their inputs in port order."""

    def __init__(self) -> None:
        self.document = GraphDocument()
        self.ids: dict[str, str] = {}

    def add(self, kind: str, name: str, *inputs: str, **attributes: Any) -> str:
        """Add a node `name` of `kind` fed by the named nodes `inputs`; returns its id."""
        node_id = self.document.new_id()
        AddNode(Node(node_id, kind, name, attributes)).apply(self.document)
        self.ids[name] = node_id
        for port, source in zip(self.document.nodes[node_id].input_ports(), inputs, strict=True):
            Connect(Edge(self.ids[source], node_id, port)).apply(self.document)
        return node_id

    def tensor(self, name: str, shape: tuple[int, ...], **attributes: Any) -> str:
        """Add a leaf tensor."""
        return self.add("tensor", name, shape=shape, **attributes)

    def finish(self, backward: str | None = None, grad_mode: str = "normal", column_width: float = COLUMN_WIDTH,
               **training: Any) -> GraphDocument:
        """Lay the graph out in columns by depth and set the document's settings (training ones if given)."""
        for node_id, position in layered_positions(self.document, column_width).items():
            MoveNode(node_id, position).apply(self.document)
        SetSetting("grad_mode", grad_mode).apply(self.document)
        if backward is not None:
            SetSetting("backward_target", self.ids[backward]).apply(self.document)
        if training:
            SetSetting("training", TrainSettings(loss=self.ids[backward], **training)).apply(self.document)
        return self.document


def layered_positions(document: GraphDocument, column_width: float = COLUMN_WIDTH) -> dict[str, tuple[float, float]]:
    """Columns by longest path from the leaves; a leaf sits just left of its first consumer, below the ops."""
    graph = document.graph()
    depth: dict[str, int] = {}
    for node_id in document.topological_order():
        depth[node_id] = max((depth[p] + 1 for p in graph.predecessors(node_id)), default=0)
    for node_id in graph:
        if graph.in_degree(node_id) == 0 and graph.out_degree(node_id) > 0:
            depth[node_id] = min(depth[s] for s in graph.successors(node_id)) - 1
    order = sorted(document.nodes, key=lambda n: graph.in_degree(n) == 0)
    rows: dict[int, int] = {}
    positions = {}
    for node_id in order:
        row = rows.get(depth[node_id], 0)
        rows[depth[node_id]] = row + 1
        positions[node_id] = (depth[node_id] * column_width, row * ROW_HEIGHT)
    return positions


def notes_forward_backward() -> GraphDocument:
    """Notes sections 2-4: x = ones(3, requires_grad=True); y = x + 2; z = y * y * 3; out = z.mean()."""
    g = GraphBuilder()
    g.tensor("x", (3,), init="ones", requires_grad=True)
    g.add("scalar", "two", value=2)
    g.add("add", "y", "x", "two")
    g.add("mul", "y_squared", "y", "y")
    g.add("scalar", "three", value=3)
    g.add("mul", "z", "y_squared", "three")
    g.add("mean", "out", "z")
    return g.finish(backward="out")


def notes_no_grad() -> GraphDocument:
    """Notes section 5: `with torch.no_grad(): y = x * 2` - y, in a no_grad frame, is not tracked (x still is),
    so Backward fails as in PyTorch."""
    g = GraphBuilder()
    g.tensor("x", (3,), init="ones", requires_grad=True)
    g.add("scalar", "two", value=2)
    y = g.add("mul", "y", "x", "two")
    document = g.finish(backward="y")
    x, y = document.nodes[y].position
    frame = Annotation(document.new_id(), "frame", "Stopping gradient tracking", (x - 24, y - 48), (440, 196),
                       grad_mode="no_grad")
    AddAnnotation(frame).apply(document)
    return document


def notes_requires_grad_false() -> GraphDocument:
    """Notes section 5: after `x.requires_grad_(False)`, y = x * 2 is not tracked either."""
    g = GraphBuilder()
    g.tensor("x", (3,), init="ones", requires_grad=False)
    g.add("scalar", "two", value=2)
    g.add("mul", "y", "x", "two")
    return g.finish(backward="y")


def notes_randn_mean() -> GraphDocument:
    """Notes section 6: a = randn(2, 2, requires_grad=True); b = a * 3; c = b.mean(); a.grad is all 0.75."""
    g = GraphBuilder()
    g.tensor("a", (2, 2), init="randn", seed=0, requires_grad=True)
    g.add("scalar", "three", value=3)
    g.add("mul", "b", "a", "three")
    g.add("mean", "c", "b")
    return g.finish(backward="c")


def linear_regression() -> GraphDocument:
    """pred = X @ w + b, loss = mse_loss(pred, y): one feature, six points near y = 2x + 1."""
    g = GraphBuilder()
    g.tensor("X", (6, 1), init="values", values=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5))
    g.tensor("w", (1, 1), init="zeros", requires_grad=True)
    g.tensor("b", (1,), init="zeros", requires_grad=True)
    g.tensor("y", (6, 1), init="values", values=(1.1, 1.9, 3.2, 3.9, 5.1, 5.9))
    g.add("matmul", "Xw", "X", "w")
    g.add("add", "pred", "Xw", "b")
    g.add("mse_loss", "loss", "pred", "y")
    return g.finish(backward="loss", optimiser="sgd", lr=0.1, momentum=0.9, steps=300)


def xor_mlp() -> GraphDocument:
    """A 2-4-1 MLP on XOR: h = tanh(X @ W1 + b1), p = sigmoid(h @ W2 + b2), binary cross-entropy."""
    g = GraphBuilder()
    g.tensor("X", (4, 2), init="values", values=(0, 0, 0, 1, 1, 0, 1, 1))
    g.tensor("W1", (2, 4), init="randn", seed=1, requires_grad=True)
    g.tensor("b1", (4,), init="zeros", requires_grad=True)
    g.tensor("W2", (4, 1), init="randn", seed=2, requires_grad=True)
    g.tensor("b2", (1,), init="zeros", requires_grad=True)
    g.tensor("y", (4, 1), init="values", values=(0, 1, 1, 0))
    g.add("matmul", "XW1", "X", "W1")
    g.add("add", "z1", "XW1", "b1")
    g.add("tanh", "h", "z1")
    g.add("matmul", "hW2", "h", "W2")
    g.add("add", "z2", "hW2", "b2")
    g.add("sigmoid", "p", "z2")
    g.add("binary_cross_entropy", "loss", "p", "y")
    return g.finish(backward="loss", optimiser="adam", lr=0.05, steps=500)


def softmax_classifier() -> GraphDocument:
    """logits = X @ W + b for three classes, cross_entropy against int64 class labels."""
    g = GraphBuilder()
    g.tensor("X", (6, 2), init="values", values=(1.0, 0.5, 0.8, 1.2, -1.0, 0.2, -1.2, -0.4, 0.1, -1.3, 0.3, -0.9))
    g.tensor("W", (2, 3), init="randn", seed=3, requires_grad=True)
    g.tensor("b", (3,), init="zeros", requires_grad=True)
    g.tensor("labels", (6,), dtype="int64", init="values", values=(0, 0, 1, 1, 2, 2))
    g.add("matmul", "XW", "X", "W")
    g.add("add", "logits", "XW", "b")
    g.add("cross_entropy", "loss", "logits", "labels")
    # wider columns: the bias wire's broadcast marker ([3] → [6, 3], summed over dim 0) sits between them
    return g.finish(backward="loss", optimiser="adam", lr=0.1, steps=200, column_width=BROADCAST_COLUMN_WIDTH)


def two_moons(count: int = 64, seed: int = 0) -> tuple[list[float], list[int]]:
    """`count` points on two interleaved half circles with a little noise, and their class (0 or 1)."""
    rng = np.random.default_rng(seed)
    angles = np.pi * rng.random(count)
    labels = np.arange(count) % 2
    x = np.where(labels == 0, np.cos(angles), 1 - np.cos(angles))
    y = np.where(labels == 0, np.sin(angles), 0.5 - np.sin(angles))
    points = np.stack([x, y], axis=1) + rng.normal(0, 0.1, (count, 2))
    return [round(float(v), 4) for v in points.reshape(-1)], [int(v) for v in labels]


def moons_mlp() -> GraphDocument:
    """A 2-16-2 MLP on generated two-moons data, trained with AdamW on mini-batches of 16."""
    points, labels = two_moons()
    g = GraphBuilder()
    g.tensor("X", (len(labels), 2), init="values", values=tuple(points))
    g.tensor("W1", (16, 2), init="randn", seed=4, requires_grad=True)
    g.tensor("b1", (16,), init="zeros", requires_grad=True)
    g.tensor("W2", (2, 16), init="randn", seed=5, requires_grad=True)
    g.tensor("b2", (2,), init="zeros", requires_grad=True)
    g.tensor("labels", (len(labels),), dtype="int64", init="values", values=tuple(labels))
    g.add("linear", "z1", "X", "W1", "b1")
    g.add("relu", "h", "z1")
    g.add("linear", "logits", "h", "W2", "b2")
    g.add("cross_entropy", "loss", "logits", "labels")
    return g.finish(backward="loss", optimiser="adamw", lr=0.02, steps=600, batch_size=16, seed=1,
                    schedule="cosine")


def hide(document: GraphDocument, ids: dict[str, str], **items: str) -> None:
    """Hide `name_kind=hint` items (`y_value="..."`, `x_grad="..."`) of a lesson, with the default tolerance."""
    for item, hint in items.items():
        name, kind = item.rsplit("_", 1)
        SetHidden(ids[name], kind, Hidden(hint=hint)).apply(document)


def note(document: GraphDocument, text: str, position: tuple[float, float], size: tuple[float, float]) -> None:
    """Put a note on the canvas (a lesson's instructions)."""
    AddAnnotation(Annotation(document.new_id(), "note", text, position, size)).apply(document)


PLAY = "Type a prediction for each hidden item in the Lesson panel, then press Reveal (or Enter). "


def lesson_forward_chain() -> GraphDocument:
    """The notes' forward chain as a lesson: predict y, z, out and the gradients before they are revealed."""
    g = GraphBuilder()
    g.tensor("x", (3,), init="ones", requires_grad=True)
    g.add("scalar", "two", value=2)
    g.add("add", "y", "x", "two")
    g.add("mul", "y_squared", "y", "y")
    g.add("scalar", "three", value=3)
    g.add("mul", "z", "y_squared", "three")
    g.add("mean", "out", "z")
    document = g.finish(backward="out")
    hide(document, g.ids, y_value="x is all ones; 2 is added to every element.",
         z_value="y * y * 3, element by element.",
         out_value="The mean of three equal numbers.",
         y_grad="out = mean(3 * y²): each y_i counts 1/3, and d(3y²)/dy = 6y. y is used twice in y * y.",
         x_grad="y = x + 2 passes the gradient through unchanged (dy/dx = 1).")
    note(document, PLAY + "Gradients come from out.backward(): predict them as lists, e.g. [1, 2, 3].",
         (0.0, 320.0), (440.0, 90.0))
    return document


def lesson_no_grad() -> GraphDocument:
    """The notes' no-grad section as a lesson: values are computed, but nothing is recorded for Backward."""
    g = GraphBuilder()
    g.tensor("x", (3,), init="ones", requires_grad=True)
    g.add("scalar", "two", value=2)
    g.add("mul", "y", "x", "two")
    g.add("sum", "total", "y")
    document = g.finish(backward="total", grad_mode="no_grad")
    hide(document, g.ids, y_value="torch.no_grad() still computes values.",
         total_value="The sum of y's elements.",
         x_grad="Under torch.no_grad() no graph is recorded: can total.backward() reach x? "
                "Type None if no gradient arrives.")
    note(document, PLAY + "This whole graph runs inside `with torch.no_grad():` (View > No Grad).",
         (0.0, 320.0), (440.0, 90.0))
    return document


def lesson_broadcasting() -> GraphDocument:
    """A (2, 3) + (3,) add: the bias is broadcast over the rows, so its gradient is summed over dim 0."""
    g = GraphBuilder()
    g.tensor("X", (2, 3), init="values", values=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0))
    g.tensor("b", (3,), init="values", values=(0.5, -1.0, 2.0), requires_grad=True)
    g.add("add", "h", "X", "b")
    g.add("sum", "loss", "h")
    document = g.finish(backward="loss")
    hide(document, g.ids, h_value="b is added to every row of X: h[i, j] = X[i, j] + b[j]. Type two rows.",
         h_grad="loss = h.sum(): every element of h counts once. Same shape as h.",
         b_grad="b has shape [3] but was used in both rows: its gradient is h's gradient summed over dim 0.")
    note(document, PLAY + "Shapes matter: a gradient always has the shape of its tensor.",
         (0.0, 320.0), (440.0, 90.0))
    return document


EXAMPLES: dict[str, Callable[[], GraphDocument]] = {
    "notes_forward_backward": notes_forward_backward,
    "notes_no_grad": notes_no_grad,
    "notes_requires_grad_false": notes_requires_grad_false,
    "notes_randn_mean": notes_randn_mean,
    "linear_regression": linear_regression,
    "xor_mlp": xor_mlp,
    "softmax_classifier": softmax_classifier,
    "moons_mlp": moons_mlp,
    "lesson_forward_chain": lesson_forward_chain,
    "lesson_no_grad": lesson_no_grad,
    "lesson_broadcasting": lesson_broadcasting,
}


def write_examples(folder: Path) -> list[Path]:
    """Write every example into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in EXAMPLES.items():
        path = folder / f"{name}.gsg"
        save(build(), path)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Write the examples to the folder given (default: resources/examples)."""
    folder = Path(argv[0]) if argv else EXAMPLES_FOLDER
    for path in write_examples(folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
