"""Data in tensor leaves: CSV and `.npy` files load as one edit, bad files are refused with row and column and
change nothing, and large data is saved beside the graph in a `.npy` file referenced by a relative path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradstudio.model.data import DataFileError, load_data_edit, read_data
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import AddNode
from gradstudio.model.io.datafiles import LARGE
from gradstudio.model.io.fileformat import GraphFileError, dumps, load, save


def _document() -> GraphDocument:
    document = GraphDocument()
    AddNode(Node("n1", "tensor", "x", {"requires_grad": True})).apply(document)
    return document


def test_a_csv_with_a_header_loads_as_one_undoable_edit(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n3.5,-4\n\n5,6e-1\n", encoding="utf-8")
    array = read_data(path)
    assert array.dtype == np.float32 and array.tolist() == [[1, 2], [3.5, -4], [5, pytest.approx(0.6)]]
    document = _document()
    before = document.snapshot()
    inverse = document.apply(load_data_edit(document, "n1", array))
    attributes = document.nodes["n1"].attributes
    assert (attributes["shape"], attributes["dtype"], attributes["init"], attributes["requires_grad"]) == (
        (3, 2), "float32", "values", True)
    document.apply(inverse)
    assert document.snapshot() == before


def test_a_single_column_csv_is_a_vector(tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text("0\n1\n1\n0\n", encoding="utf-8")
    assert read_data(path).shape == (4,)


@pytest.mark.parametrize(("text", "message"), [
    ("1,2\n3,x\n", "row 2, column 2: expected a number, got 'x'"),
    ("a,b\n1,2\n3\n", "row 2: expected 2 columns like the first row, got 1"),
    ("a,b\n", "the file holds no rows of numbers"),
    ("1,nan\n", r"element \[0, 1\]: expected a finite number, got nan"),
])
def test_a_bad_csv_is_refused_with_its_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        read_data(path)


def test_npy_files_load_and_pickles_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "labels.npy"
    np.save(good, np.array([0, 1, 2], dtype=np.int32))
    array = read_data(good)
    document = _document()
    document.apply(load_data_edit(document, "n1", array))
    assert document.nodes["n1"].attributes["dtype"] == "int64"
    bad = tmp_path / "objects.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="not a usable .npy file"):
        read_data(bad)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataFileError, match="not a usable .npy file"):
        read_data(tmp_path / "junk.npy")


def test_small_data_stays_in_the_file_and_large_data_goes_beside_it(tmp_path: Path) -> None:
    document = _document()
    AddNode(Node("n2", "tensor", "big", {})).apply(document)
    document.apply(load_data_edit(document, "n1", np.ones((2, 3), np.float32)))
    large = np.random.default_rng(0).standard_normal((LARGE // 50 + 1, 50))
    document.apply(load_data_edit(document, "n2", large))
    path = tmp_path / "graph.gsg"
    save(document, path)
    records = json.loads(path.read_text(encoding="utf-8"))["nodes"]
    assert "values" in records[0]["attributes"] and "data" not in records[0]
    assert records[1]["data"] == "graph.data/n2.npy" and "values" not in records[1]["attributes"]
    np.testing.assert_array_equal(np.load(tmp_path / "graph.data" / "n2.npy"), large)
    reopened = load(path)
    assert dumps(reopened) == dumps(document)
    assert reopened.nodes["n2"].attributes["values"] == document.nodes["n2"].attributes["values"]


@pytest.mark.parametrize(("reference", "message"), [
    ("../elsewhere.npy", "expected a relative path to a .npy file inside the graph's folder"),
    ("/etc/passwd.npy", "expected a relative path"),
    ("graph.data/missing.npy", "cannot read the data file graph.data/missing.npy"),
])
def test_bad_data_references_are_refused(tmp_path: Path, reference: str, message: str) -> None:
    document = _document()
    document.apply(load_data_edit(document, "n1", np.zeros(LARGE + 1)))
    path = tmp_path / "graph.gsg"
    save(document, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["nodes"][0]["data"] = reference
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GraphFileError, match=r"nodes\[0\]\.data: " + message):
        load(path)


def test_a_data_file_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    document = _document()
    document.apply(load_data_edit(document, "n1", np.zeros(LARGE + 1)))
    path = tmp_path / "graph.gsg"
    save(document, path)
    np.save(tmp_path / "graph.data" / "n1.npy", np.zeros(3))
    with pytest.raises(GraphFileError, match=r"holds 3 values; shape \[10001\] needs 10001"):
        load(path)
