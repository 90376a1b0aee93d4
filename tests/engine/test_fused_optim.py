"""Adam's and SGD's compiled loops for large parameters (`_adam.fused`, `SGD._fused_update`, `_fused.py`): the
numpy passes' exact bytes, the path taken where it should be, the numpy passes without numba, PyTorch's numbers,
and a cache numba cannot use."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine import _adam, _fused_loader

ROOT = Path(__file__).resolve().parents[2]
LARGE = (160, 125)  # 20,000 elements: above _fused_loader.SMALL, so the compiled loop's
STATE_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer")


@pytest.fixture
def kernel_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the parameters the compiled loops updated (Adam's and SGD's), while the test runs."""
    loops, calls = _fused_loader.fused_loops(), []
    assert loops is not None, "numba (a dependency) is not importable"

    def counted(loop: Callable[..., None]) -> Callable[..., None]:
        def run(*arguments: Any) -> None:
            calls.append(arguments[0].size)
            loop(*arguments)
        return run

    monkeypatch.setattr(_fused_loader, "_loops", SimpleNamespace(adam=counted(loops.adam), sgd=counted(loops.sgd)))
    return calls


def numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the loader find no numba, as in the bundle: `import numba` fails and nothing is loaded yet."""
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "gradstudio.engine._fused", raising=False)
    monkeypatch.delattr(torch, "_fused", raising=False)  # the package's name for it, once imported
    monkeypatch.setattr(_fused_loader, "_loops", _fused_loader._UNLOADED)


def train(make: Callable[[list[torch.Tensor]], Any], initial: list[np.ndarray], steps: int,
          lr_at: Callable[[int], float], seed: int = 7) -> list[list[bytes]]:
    """Give each parameter a random gradient (exact zeros among it) and step, `steps` times, the learning rate set
    before each step; the bytes of every parameter and state array, and the version counters of the parameters and
    of each state tensor (which a parameter's state holds, too), after each step."""
    params = [torch.tensor(array.copy(), requires_grad=True) for array in initial]
    optimizer, rng, history = make(params), np.random.default_rng(seed), []

    def states(param: torch.Tensor) -> dict:
        return optimizer.state.get(param, {})

    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        for param, array in zip(params, initial):
            scale = array.dtype.type(10.0 ** int(rng.integers(-4, 2)))
            grad = rng.standard_normal(array.shape).astype(array.dtype) * scale
            grad[rng.random(array.shape) < 0.05] = 0
            param.grad = torch.tensor(grad)
        optimizer.step()
        history.append([param.detach().numpy().tobytes() for param in params]
                       + [optimizer.state[param][key].numpy().tobytes() for param in params
                          for key in STATE_KEYS if key in optimizer.state[param]]
                       + [(param._version, {key: tensor._version for key, tensor in states(param).items()})
                          for param in params])
    return history


OPTIONS = [
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"maximize": True, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("AdamW", {"weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {"maximize": True}),
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"momentum": 0.5, "dampening": 0.2, "maximize": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "options"), OPTIONS, ids=str)
def test_the_compiled_loop_gives_the_numpy_passes_bytes(monkeypatch: pytest.MonkeyPatch, kernel_calls: list[int],
                                                        dtype: type, name: str, options: dict) -> None:
    """50 steps, the learning rate changing every step, of parameters of several shapes (one just above SMALL,
    a 3-D one, one past CHUNK) and a small one: after every step the parameters and every state array hold the
    bytes the numpy passes give."""
    rng = np.random.default_rng(1)
    shapes = [LARGE, (_fused_loader.SMALL + 1,), (9, 41, 47), (3 * _adam.CHUNK + 5,), (7,)]
    initial = [rng.standard_normal(shape).astype(dtype) for shape in shapes]

    def make(params: list[torch.Tensor]) -> Any:
        return getattr(torch.optim, name)(params, **options)

    def lr_at(step: int) -> float:
        return 0.01 * 0.9 ** step + 1e-4 * (step % 3)

    fused = train(make, initial, 50, lr_at)
    assert sorted(set(kernel_calls)) == sorted(int(np.prod(shape)) for shape in shapes[:4])
    numpy_only(monkeypatch)
    assert train(make, initial, 50, lr_at) == fused


def test_a_small_parameter_alone_stays_on_the_numpy_passes(kernel_calls: list[int]) -> None:
    """A parameter of SMALL elements (its own group) is not worth the loop's loading; one above it takes it."""
    size = _fused_loader.SMALL
    small, large = torch.zeros(size, requires_grad=True), torch.zeros(size + 1, requires_grad=True)
    optimizer = torch.optim.Adam([{"params": [small]}, {"params": [large]}])
    small.grad, large.grad = torch.ones(size), torch.ones(size + 1)
    optimizer.step()
    assert kernel_calls == [size + 1]


# In a fresh process: steps of parameters of SMALL elements (Adam's flat group and one alone, AdamW, SGD with and
# without momentum), then one of SMALL + 1; whether numba was imported after each.
STEP_SIZES = """
import json, sys
import gradstudio.engine as torch
from gradstudio.engine import _fused_loader

def step(optimizer, params):
    for param in params:
        param.grad = torch.ones(param.shape)
    optimizer.step()

def loaded():
    return [name in sys.modules for name in ("numba", "gradstudio.engine._fused")]

size = _fused_loader.SMALL
seen = {"import": loaded()}
pair = [torch.zeros(size, requires_grad=True), torch.zeros(3, requires_grad=True)]
step(torch.optim.Adam(pair), pair)
alone = [torch.zeros(size, requires_grad=True)]
step(torch.optim.Adam([{"params": alone}, {"params": [torch.zeros(2, requires_grad=True)]}]), alone)
for make in (torch.optim.AdamW, lambda p: torch.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, momentum=0.9)):
    step(make(alone), alone)
seen["small"] = loaded()
large = [torch.zeros(size + 1, requires_grad=True)]
step(torch.optim.SGD(large, momentum=0.9), large)
seen["large"] = loaded()
print(json.dumps(seen))
"""


def test_numba_is_imported_only_by_a_step_of_a_parameter_above_small() -> None:
    """`import gradstudio.engine` and every optimiser's steps of parameters of SMALL elements leave numba and the
    loops unimported (a few tenths of a second a small network never needs to pay); one of SMALL + 1 loads them."""
    done = subprocess.run([sys.executable, "-c", STEP_SIZES], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"import": [False, False], "small": [False, False], "large": [True, True]}


def test_strided_parameters_and_gradients(monkeypatch: pytest.MonkeyPatch, kernel_calls: list[int]) -> None:
    """A leaf whose array is a transposed view (a detached `.t()`) keeps the numpy passes, which update it in
    place; a C-contiguous parameter with a transposed gradient takes the loop (the gradient copied). Both give
    the numpy passes' bytes."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((200, 150)).astype(np.float32)

    def run() -> list[bytes]:
        strided = torch.tensor(base).t().detach().requires_grad_()
        plain = torch.tensor(base, requires_grad=True)
        assert not strided.detach().numpy().flags.c_contiguous
        optimizer = torch.optim.Adam([strided, plain], lr=0.01, amsgrad=True)
        for step in range(5):
            grad = torch.tensor(rng.standard_normal((150, 200)).astype(np.float32) * np.float32(step + 1))
            strided.grad, plain.grad = grad, grad.t()
            optimizer.step()
        return [array.tobytes() for param in (strided, plain) for array in
                [param.detach().numpy(), *(optimizer.state[param][key].numpy() for key in STATE_KEYS[:3])]]

    fused = run()
    assert kernel_calls == [base.size] * 5
    numpy_only(monkeypatch)
    rng = np.random.default_rng(2)
    rng.standard_normal((200, 150))
    assert run() == fused


def test_without_numba_adam_takes_the_numpy_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `import numba` failing the loader answers None once, and a large parameter's step still runs."""
    numpy_only(monkeypatch)
    param = torch.ones(LARGE, requires_grad=True)
    param.grad = torch.ones(LARGE)
    torch.optim.Adam([param], lr=0.5).step()
    assert _fused_loader._loops is None and "gradstudio.engine._fused" not in sys.modules
    np.testing.assert_allclose(param.detach().numpy(), 0.5, rtol=1e-6)


@pytest.mark.parametrize(("name", "options"), [
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.1}),
], ids=str)
def test_the_compiled_loop_tracks_pytorch(kernel_calls: list[int], name: str, options: dict) -> None:
    """20 steps under a StepLR schedule of a 300 x 70 weight (above SMALL) and a small bias, the same gradients
    handed to both, against real PyTorch's optimiser: the parameters and the weight's state agree to float32
    rounding after every step."""
    real_torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    initial = [rng.standard_normal(shape).astype(np.float32) for shape in ((300, 70), (70,))]
    grads = [[rng.standard_normal(array.shape).astype(np.float32) * np.float32(0.1) for array in initial]
             for _ in range(20)]

    def run(lib: Any) -> list[list[np.ndarray]]:
        params = [lib.tensor(array, requires_grad=True) for array in initial]
        optimizer = getattr(lib.optim, name)(params, **options)
        schedule = lib.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
        history = []
        for step_grads in grads:
            for param, grad in zip(params, step_grads):
                param.grad = lib.tensor(grad)
            optimizer.step()
            schedule.step()
            history.append([param.detach().numpy().copy() for param in params]
                           + [optimizer.state[params[0]][key].numpy().copy() for key in STATE_KEYS
                              if key in optimizer.state[params[0]]])
        return history

    ours, theirs = run(torch), run(real_torch)
    assert kernel_calls == [300 * 70] * 20
    for step, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        for index, (a, b) in enumerate(zip(mine, reference, strict=True)):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=f"step {step + 1}, array {index}")


# Loads a copy of _fused.py from argv[1] as a top-level module, runs one float32 update of argv[2] elements and
# prints its bytes' hash and where numba keeps the compiled code.
RUN_COPY = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import _fused
size = int(sys.argv[2])
arrays = [np.linspace(-1, 1, size, dtype=np.float32) * np.float32(k) for k in (1, 0.1, 0.2, 0.3, 0.3)]
factors = [np.float32(f) for f in (0.1, 0.001, 0.999, 0.05, 1e-8, -0.01)]
_fused.adam(arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], False, *factors)
print(json.dumps({"digest": hashlib.sha256(b"".join(a.tobytes() for a in arrays[:4])).hexdigest(),
                  "cached": _fused.adam.cached}))
"""


def expected_digest(size: int) -> str:
    """RUN_COPY's digest as the numpy passes compute it."""
    arrays = [np.linspace(-1, 1, size, dtype=np.float32) * np.float32(k) for k in (1, 0.1, 0.2, 0.3)]
    factors = tuple(np.float32(f) for f in (0.1, 0.001, 0.999, 0.05, 1e-8, -0.01))
    scratch, other = np.empty(size, np.float32), np.empty(size, np.float32)
    arrays[0] += _adam.update(arrays[1], arrays[2], arrays[3], None, scratch, other, factors)
    return hashlib.sha256(b"".join(array.tobytes() for array in arrays)).hexdigest()


def run_copy(folder: Path, cache_home: Path) -> dict:
    environ = dict(os.environ, XDG_CACHE_HOME=str(cache_home), HOME=str(cache_home))
    environ.pop("NUMBA_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-W", "error", "-c", RUN_COPY, str(folder), "20000"], cwd=folder,
                          env=environ, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_numba_cache_beside_the_module_unusable_or_corrupt(tmp_path: Path) -> None:
    """The compiled code is kept beside the module; a corrupt cache there costs a compile, not a step; with
    `__pycache__` unwritable (here a file, which no one can write into) numba's user-wide cache serves; with no
    writable place at all the loop is compiled afresh. Every time the same bytes as the numpy passes."""
    source = (ROOT / "gradstudio" / "engine" / "_fused.py").read_text(encoding="utf-8")
    expected = expected_digest(20000)
    beside, unwritable = tmp_path / "beside", tmp_path / "unwritable"
    for folder in (beside, unwritable):
        folder.mkdir()
        (folder / "_fused.py").write_text(source, encoding="utf-8")
    home = tmp_path / "home"
    assert run_copy(beside, home) == {"digest": expected, "cached": True}
    kept = list((beside / "__pycache__").glob("_fused.adam_loop*.nbi"))
    assert kept and run_copy(beside, home)["digest"] == expected
    for path in (beside / "__pycache__").glob("_fused.adam_loop*"):
        path.write_bytes(b"not a cache")
    assert run_copy(beside, home) == {"digest": expected, "cached": False}
    (unwritable / "__pycache__").write_text("a file where the folder would be", encoding="utf-8")
    assert run_copy(unwritable, home) == {"digest": expected, "cached": True}
    assert list(home.rglob("_fused.adam_loop*.nbi")), "numba's user-wide cache holds it"
    nowhere = tmp_path / "nowhere"
    nowhere.write_text("not a folder", encoding="utf-8")
    assert run_copy(unwritable, nowhere) == {"digest": expected, "cached": False}


def test_the_bundle_leaves_numba_out() -> None:
    """The PyInstaller spec excludes numba and llvmlite (their size; Adam then takes the numpy passes, as
    `test_without_numba_adam_takes_the_numpy_passes` shows it does)."""
    spec = ast.parse((ROOT / "packaging" / "pyinstaller" / "gradstudio.spec").read_text(encoding="utf-8"))
    excludes = [ast.literal_eval(keyword.value) for node in ast.walk(spec) if isinstance(node, ast.Call)
                for keyword in node.keywords if keyword.arg == "excludes"]
    assert len(excludes) == 1 and {"numba", "llvmlite"} <= set(excludes[0])
