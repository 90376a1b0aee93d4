"""Behaviour beyond values, run on our engine and on real PyTorch: formatting, saved operands of matmul and
linear, and the misuse PyTorch refuses."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402


def _formatted(value, spec):
    return attempt(lambda: format(value, spec))


FORMAT = {
    "fstring_0d": lambda t: f"{t.tensor(1.23456789)}",
    "fstring_precision": lambda t: f"{t.tensor(1.23456789):.4f}",
    "fstring_loss_with_grad": lambda t: f"{(t.tensor(2.5, requires_grad=True) * 2).sum():.3f}",
    "fstring_width": lambda t: f"{t.tensor(0.5):>10}|",
    "int_0d": lambda t: [_formatted(t.tensor(3), "d"), _formatted(t.tensor(3), ".2f")],
    "bool_0d": lambda t: _formatted(t.tensor(True), ""),
    "double_0d": lambda t: _formatted(t.tensor(0.1, dtype=t.float64), ".10f"),
    "vector_empty_spec": lambda t: _formatted(t.tensor([1.0, 2.0]), ""),
    "vector_spec_refused": lambda t: _formatted(t.tensor([1.0, 2.0]), ".2f"),
    "one_element_vector_refused": lambda t: _formatted(t.tensor([1.0]), ".2f"),
}


@pytest.mark.parametrize("name", FORMAT)
def test_format(name):
    assert_same(lambda t: attempt(lambda: FORMAT[name](t)), torch)


def _step_before_backward(product, *, input_requires_grad=False, change=("weight", "bias")):
    """A product, then an optimiser-like in-place change under no_grad before backward."""
    def scenario(t):
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=input_requires_grad)
        weight = t.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
        bias = t.tensor([0.1, 0.2], requires_grad=True)
        loss = product(t, x, weight, bias).pow(2).sum()
        with t.no_grad():
            if "weight" in change:
                weight -= 0.1
            if "bias" in change:
                bias += 1.0
        outcome = attempt(loss.backward)
        return outcome, weight.grad, bias.grad, x.grad

    return scenario


SAVED = {
    "matmul_step": _step_before_backward(lambda t, x, w, b: x @ w),
    "mm_step": _step_before_backward(lambda t, x, w, b: t.mm(x, w)),
    "mv_step": _step_before_backward(lambda t, x, w, b: t.mv(x, w[0])),
    "dot_step": _step_before_backward(lambda t, x, w, b: t.dot(x[0], w[0]), change=("weight",)),
    "bmm_step": _step_before_backward(lambda t, x, w, b: t.bmm(x.unsqueeze(0), w.unsqueeze(0))),
    "linear_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    "linear_no_bias_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w)),
    "linear_3d_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x.unsqueeze(0), w, b)),
    "bias_add_step": _step_before_backward(lambda t, x, w, b: x @ w + b),
    # PyTorch does save the weight when the input needs its gradient: the change is then an error
    "matmul_both_require_grad": _step_before_backward(lambda t, x, w, b: x @ w, input_requires_grad=True),
    "linear_both_require_grad": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b),
                                                      input_requires_grad=True),
    "linear_only_bias_changed": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b),
                                                      input_requires_grad=True, change=("bias",)),
}


@pytest.mark.parametrize("name", SAVED)
def test_saved_operands(name):
    assert_same(SAVED[name], torch)


def _backward_into(inputs_of):
    def scenario(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        w = t.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        z = (y * y).sum()
        outcome = attempt(lambda: z.backward(inputs=inputs_of(x, w, y)))
        return outcome, x.grad, w.grad, y.grad if y.retains_grad or outcome is None else None

    return scenario


def _grad_assignments(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    outcomes = []
    for value in (t.ones(3), t.ones(2, dtype=t.float64), [1.0, 2.0], 3, t.ones(2, dtype=t.int64), t.ones(2), None):
        def assign(value=value):
            x.grad = value
            return x.grad

        outcomes.append(attempt(assign))
    return outcomes


def _batched_grads(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    y = x * x * 3
    (first,) = t.autograd.grad(y, x, t.eye(2), retain_graph=True, is_grads_batched=True)
    (second,) = t.autograd.grad(y, [x], [t.tensor([[1.0, 1.0], [2.0, 0.5], [0.0, 1.0]])], is_grads_batched=True)
    return first, second


def _generator_under(mode):
    def scenario(t):
        @mode(t)
        def steps():
            yield t.is_grad_enabled()
            yield (t.ones(1, requires_grad=True) * 2).requires_grad

        generator = steps()
        first = next(generator)
        between = t.is_grad_enabled()
        return first, between, next(generator), t.is_grad_enabled()

    return scenario


def _zero_grad_in_place(t):
    p = t.tensor([1.0, 2.0], requires_grad=True)
    (p * 2).sum().backward()
    optimizer = t.optim.SGD([p], lr=0.1)
    version = p.grad._version
    optimizer.zero_grad(set_to_none=False)
    return p.grad, p.grad._version - version


def _copies(t):
    a = t.tensor([1.0, 2.0])
    copies = [a.to(copy=True), a.to(t.float32, copy=True), a.to("cpu", copy=True), a.to(t.float32, False, True)]
    for index, copy in enumerate(copies):
        copy[0] = 10.0 + index
    leaf = t.ones(2, requires_grad=True)
    return a, [c is a for c in copies], copies, leaf.to(copy=True), a.to(t.float32) is a


SURFACE = {
    "backward_inputs_non_leaf": _backward_into(lambda x, w, y: [y]),
    "backward_inputs_leaf_only": _backward_into(lambda x, w, y: [x]),
    "backward_inputs_single_tensor": _backward_into(lambda x, w, y: w),
    "backward_inputs_leaf_and_non_leaf": _backward_into(lambda x, w, y: (x, y)),
    "backward_inputs_empty": _backward_into(lambda x, w, y: []),
    "grad_of_no_inputs": lambda t: attempt(lambda: t.autograd.grad((t.ones(1, requires_grad=True) * 2).sum(), [])),
    "grad_only_inputs": lambda t: t.autograd.grad((t.ones(2, requires_grad=True) * 2).sum(),
                                                  t.ones(2, requires_grad=True), allow_unused=True, only_inputs=True),
    "grad_batched": _batched_grads,
    "grad_assignment_checks": _grad_assignments,
    "size_slice_and_concat": lambda t: [t.Size([2, 3, 4])[1:], t.Size([2]) + t.Size([3]), t.Size([2]) + (3,),
                                        (1,) + t.Size([2]), t.ones(2, 3).shape[:1], t.Size([2, 3])[0],
                                        type(t.ones(2, 3).shape[::-1]).__name__, t.Size([True, 2])],
    "size_refuses_float": lambda t: attempt(lambda: t.Size([1.5])),
    "size_refuses_string": lambda t: attempt(lambda: t.Size([2, "a"])),
    "size_plus_list": lambda t: attempt(lambda: t.Size([2]) + [3]),
    "set_grad_enabled_int": lambda t: attempt(lambda: t.set_grad_enabled(0)),
    "set_grad_enabled_none": lambda t: attempt(lambda: t.set_grad_enabled(None)),
    "no_grad_generator": _generator_under(lambda t: t.no_grad()),
    "set_grad_enabled_generator": _generator_under(lambda t: t.set_grad_enabled(False)),
    "enable_grad_generator": lambda t: t.no_grad()(lambda: _generator_under(lambda t: t.enable_grad())(t))(),
    "zero_grad_in_place_bumps_version": _zero_grad_in_place,
    "to_copy": _copies,
}


@pytest.mark.parametrize("name", SURFACE)
def test_surface(name):
    assert_same(lambda t: attempt(lambda: SURFACE[name](t)), torch)


def test_T_on_other_than_matrices_warns_once_per_process(monkeypatch):
    import warnings

    import gradstudio.engine as engine
    from gradstudio.engine.ops import shape

    monkeypatch.setattr(shape, "WARNED_ONCE", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shapes = [tensor.T.shape for _ in range(3) for tensor in (engine.ones(2, 2, 3), engine.ones(()))]
        shapes.append(engine.ones(2, 3).T.shape)
    assert shapes[-3:] == [(3, 2, 2), (), (3, 2)]
    assert [str(w.message)[:20] for w in caught] == ["The use of `x.T` on ", "Tensor.T is deprecat"]


MISUSE = {
    "eq_none": lambda t: [t.tensor([1.0]) == None, t.tensor([1.0]) != None, t.tensor(1.0) == "a"],  # noqa: E711
    "lt_none": lambda t: t.tensor([1.0]) < None,
    "duplicate_dims": lambda t: t.ones(2, 3).sum((0, 0)),
    "duplicate_dims_negative": lambda t: t.ones(2, 3).mean((1, -1)),
    "duplicate_dims_keepdim": lambda t: t.ones(2, 3).sum((0, -2), keepdim=True),
    "duplicate_dims_std": lambda t: t.ones(2, 3).std((0, 0)),
    "int_negative_scalar_power": lambda t: t.tensor([2, 3]) ** -1,
    "int_0d_negative_power": lambda t: t.tensor(2) ** -1,
    "bool_negative_power": lambda t: t.tensor([True]) ** -1,
    "int_negative_tensor_powers": lambda t: t.tensor([-1, 1, 2, 0, -1, 3]) ** t.tensor([-1, -2, -1, -1, -2, 2]),
    "int_base_negative_exponents": lambda t: 2 ** t.tensor([-1, 2]),
    "int_float_negative_power": lambda t: t.tensor([2]) ** -1.0,
    "bool_negation": lambda t: -t.tensor([True]),
    "bool_neg_method": lambda t: t.tensor([True, False]).neg(),
    "bool_subtraction": lambda t: t.tensor([True]) - t.tensor([False]),
    "bool_minus_bool_scalar": lambda t: t.tensor([True]) - True,
    "bool_scalar_minus_bool": lambda t: True - t.tensor([True]),
    "bool_minus_int": lambda t: t.tensor([True]) - 1,
    "bool_sub_function": lambda t: t.sub(t.tensor([True]), t.tensor([True])),
    "int_softmax_lastdim": lambda t: t.tensor([[1, 2]]).softmax(1),
    "int_softmax_dim0": lambda t: t.tensor([[1, 2]]).softmax(0),
    "int_log_softmax": lambda t: [attempt(lambda: t.tensor([1, 2]).log_softmax(0)),
                                  attempt(lambda: t.tensor([[1, 2]]).log_softmax(0))],
    "bool_softmax": lambda t: t.tensor([True]).softmax(0),
    "int_0d_softmax": lambda t: t.tensor(3).softmax(0),
    "int_softmax_with_dtype": lambda t: t.softmax(t.tensor([1, 2]), 0, dtype=t.float32),
}


@pytest.mark.parametrize("name", MISUSE)
def test_misuse(name):
    assert_same(lambda t: attempt(lambda: MISUSE[name](t)), torch)


def _hook_order(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    log = []
    y.grad_fn.register_prehook(lambda grad_outputs: log.append(("pre", grad_outputs)))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: log.append(("post", grad_inputs, grad_outputs)))
    y.register_hook(lambda grad: log.append(("tensor", grad)))
    x.register_post_accumulate_grad_hook(lambda leaf: log.append(("accumulated", leaf.grad.clone())))
    y.sum().backward()
    return log


def _hook_replacements(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    w = t.tensor([0.5, 0.5], requires_grad=True)
    y = x * w
    y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
    handle = y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] + 1, None))
    y.sum().backward(retain_graph=True)
    first = x.grad.clone(), w.grad
    handle.remove()
    x.grad, w.grad = None, None
    y.sum().backward()
    return first, x.grad, w.grad


def _bad_hook(register):
    def scenario(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        register(y)
        return attempt(lambda: y.sum().backward())

    return scenario


def _saved(t):
    w = t.tensor([1.0, 2.0], requires_grad=True)
    o = t.tensor([3.0, 4.0])
    product, both = w * o, w * w.detach().requires_grad_()
    square, power = w ** 2, w ** t.tensor([2.0, 3.0])
    return [product.grad_fn._saved_self, product.grad_fn._saved_other, both.grad_fn._saved_self,
            w.exp().grad_fn._saved_result, square.grad_fn._saved_exponent, square.grad_fn._saved_self,
            w.tanh().grad_fn._saved_result, w.sin().grad_fn._saved_self, (w / o).grad_fn._saved_other,
            power.grad_fn._saved_exponent, t.mm(w.view(1, 2), o.view(2, 1)).grad_fn._saved_mat2,
            attempt(lambda: (w + o).grad_fn._saved_self)]


HOOKS = {
    "hook_order": _hook_order,
    "hook_replacements": _hook_replacements,
    "tensor_hook_returns_int": _bad_hook(lambda y: y.register_hook(lambda g: 5)),
    "prehook_returns_int": _bad_hook(lambda y: y.grad_fn.register_prehook(lambda g: 5)),
    "prehook_returns_tuple_of_int": _bad_hook(lambda y: y.grad_fn.register_prehook(lambda g: (5,))),
    "prehook_returns_too_many": _bad_hook(lambda y: y.grad_fn.register_prehook(lambda g: (g[0], g[0]))),
    "post_hook_returns_int": _bad_hook(lambda y: y.grad_fn.register_hook(lambda gi, go: 5)),
    "post_hook_returns_too_few": _bad_hook(lambda y: y.grad_fn.register_hook(lambda gi, go: (gi[0],))),
    "post_accumulate_on_non_leaf": lambda t: attempt(
        lambda: (t.ones(2, requires_grad=True) * 3).register_post_accumulate_grad_hook(lambda p: None)),
    "post_accumulate_without_grad": lambda t: attempt(
        lambda: t.ones(2).register_post_accumulate_grad_hook(lambda p: None)),
    "saved_tensors": _saved,
}


@pytest.mark.parametrize("name", HOOKS)
def test_node_hooks(name):
    assert_same(lambda t: attempt(lambda: HOOKS[name](t)), torch)


def _optimiser_round_trip(make):
    def scenario(t):
        w = t.tensor([1.0, 2.0], requires_grad=True)
        b = t.tensor([0.5], requires_grad=True)
        optimizer = make(t, [{"params": [w]}, {"params": [b], "lr": 0.5}])
        fresh = optimizer.state_dict()
        for _ in range(2):
            optimizer.zero_grad()
            ((w * w).sum() + (b * 3).sum()).backward()
            optimizer.step()
        saved = optimizer.state_dict()
        w2 = t.tensor([1.0, 2.0], requires_grad=True)
        b2 = t.tensor([0.5], requires_grad=True)
        restored = make(t, [{"params": [w2]}, {"params": [b2]}])
        restored.load_state_dict(saved)
        w2.grad, b2.grad = t.ones(2), t.ones(1)
        restored.step()
        wrong = make(t, [w2, b2])
        return [repr(optimizer), fresh, saved, restored.state_dict(), w2, b2,
                attempt(lambda: wrong.load_state_dict(saved)),
                attempt(lambda: make(t, [{"params": [w2]}, {"params": [b2, w]}]).load_state_dict(saved))]

    return scenario


OTHERS = {
    "device_object": lambda t: [t.ones(1).device, t.ones(1).device.type, str(t.ones(1).device), t.ones(1).device.index,
                                t.device("cpu") == t.ones(1).device, t.ones(1).device == "cpu", t.device("cpu:0"),
                                t.device("cpu", 0), t.device(t.device("cpu")), t.ones(1).to(t.device("cpu")).device],
    "device_unknown": lambda t: attempt(lambda: t.device("xyz")),
    "max_structseq": lambda t: [type(t.ones(2, 2).max(1)).__module__, type(t.ones(2, 2).min(1)).__name__,
                                t.ones(2, 2).max(1), isinstance(t.ones(2, 2).max(dim=0), tuple),
                                t.return_types.max.__name__],
    "gradcheck_without_requires_grad": lambda t: attempt(
        lambda: t.autograd.gradcheck(lambda x: x * 2, (t.ones(2, dtype=t.float64),))),
    "sgd_state_dict": _optimiser_round_trip(lambda t, groups: t.optim.SGD(groups, lr=0.1, momentum=0.9)),
    "adam_state_dict": _optimiser_round_trip(lambda t, groups: t.optim.Adam(groups, lr=0.01)),
}


@pytest.mark.parametrize("name", OTHERS)
def test_other_surface(name):
    assert_same(lambda t: attempt(lambda: OTHERS[name](t)), torch)


SHAPES = {
    "size_of_0d": lambda t: [attempt(lambda: t.tensor(1.0).size(0)), attempt(lambda: t.tensor(1.0).size(-1)),
                             t.tensor(1.0).size()],
    "mT_of_vector": lambda t: attempt(lambda: t.ones(3).mT),
    "mT_of_batch": lambda t: t.arange(6.0).view(1, 2, 3).mT,
    "max_over_empty_dim": lambda t: [attempt(lambda: t.ones(0, 3).max(0)), attempt(lambda: t.ones(0, 3).min(0))],
    "max_along_non_empty_dim_of_empty": lambda t: [t.ones(0, 3).max(1), t.ones(0, 3).min(1, keepdim=True)],
    "max_of_empty_without_dim": lambda t: attempt(lambda: t.ones(0, 3).max()),
    "softmax_of_empty": lambda t: [t.ones(0, 3).softmax(0), t.ones(0, 3).log_softmax(1)],
    "cat_0d": lambda t: attempt(lambda: t.cat([t.ones(1), t.tensor(2.0)])),
}


@pytest.mark.parametrize("name", SHAPES)
def test_shape_edges(name):
    assert_same(lambda t: attempt(lambda: SHAPES[name](t)), torch)
