"""optim: SGD, Adam and AdamW against hand-computed updates and torch; groups, state, errors."""

import copy

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim


def _scalar(value=1.0, dtype=np.float64):
    return nn.Parameter(np.array([value], dtype))


def _run(optimizer, params, steps, gradient):
    """`steps` steps where each parameter's gradient is `gradient(param_array)`."""
    for _ in range(steps):
        optimizer.zero_grad()
        for p in params:
            p.grad = tc.Tensor(gradient(p.detach().numpy()))
        optimizer.step()


# ----- hand-computed trajectories (loss p**2 / 2, so the gradient is p) -------------------------
@pytest.mark.parametrize("options, expected", [
    (dict(lr=0.1), [0.9, 0.81, 0.729]),
    (dict(lr=0.1, momentum=0.9), [0.9, 0.72, 0.486]),
    (dict(lr=0.1, momentum=0.9, nesterov=True), [0.81, 0.5751]),
    (dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1), [0.89, 0.74205]),
])
def test_sgd_follows_hand_computed_updates(options, expected):
    p = _scalar()
    opt = optim.SGD([p], **options)
    for value in expected:
        _run(opt, [p], 1, lambda x: x)
        assert p.detach().numpy()[0] == pytest.approx(value, abs=1e-12)


def test_adam_moves_by_lr_per_step_under_a_constant_gradient():
    # With a constant gradient g the bias-corrected moments are g and g**2: each step is lr*g/(|g|+eps).
    p = _scalar()
    opt = optim.Adam([p], lr=0.1)
    _run(opt, [p], 3, lambda x: np.full_like(x, 2.0))
    assert p.detach().numpy()[0] == pytest.approx(1 - 3 * 0.1 * 2 / (2 + 1e-8), abs=1e-12)
    assert opt.state_dict()["state"][0]["step"] == 3


def test_adamw_decays_weights_before_the_adam_step_and_adam_adds_decay_to_the_gradient():
    p = _scalar()
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1)
    _run(opt, [p], 2, lambda x: np.full_like(x, 2.0))
    step = 0.1 * 2 / (2 + 1e-8)
    assert p.detach().numpy()[0] == pytest.approx((1 * 0.99 - step) * 0.99 - step, abs=1e-12)
    q = _scalar()
    _run(optim.Adam([q], lr=0.1, weight_decay=0.5), [q], 1, lambda x: np.zeros_like(x))
    # The gradient is then 0.5 * q only: the first Adam step moves by lr * sign of it.
    assert q.detach().numpy()[0] == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-12)


# ----- the contract -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.01, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.01),
])
def test_float32_parameters_and_state_stay_float32_and_versions_bump(make):
    p = nn.Parameter(np.ones((2, 3), np.float32))
    opt = make([p])
    _run(opt, [p], 2, lambda x: x * 0.5)
    assert p.dtype == np.float32 and p._version == 2
    for value in opt.state_dict()["state"][0].values():
        if isinstance(value, tc.Tensor):
            assert value.dtype == np.float32


def test_parameters_without_gradient_are_left_alone():
    a, b = _scalar(), _scalar()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = tc.Tensor(np.array([1.0]))
    opt.step()
    assert a.detach().numpy()[0] == pytest.approx(0.9) and b.detach().numpy()[0] == 1.0 and b._version == 0


def test_parameter_groups_use_their_own_options_and_defaults_for_the_rest():
    a, b = _scalar(), _scalar()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["momentum"] == 0.9
    _run(opt, [a, b], 1, lambda x: x)
    assert a.detach().numpy()[0] == pytest.approx(0.9) and b.detach().numpy()[0] == pytest.approx(0.5)


def test_zero_grad_drops_or_zeroes():
    p = _scalar()
    opt = optim.SGD([p], lr=0.1)
    p.grad = tc.Tensor(np.array([3.0]))
    opt.zero_grad(set_to_none=False)
    assert p.grad.detach().numpy()[0] == 0
    opt.zero_grad()
    assert p.grad is None


def test_step_calls_the_closure_and_returns_its_loss():
    p = _scalar(2.0)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum() * 0.5
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(2.0) and p.detach().numpy()[0] == pytest.approx(1.5)


def _train(model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
])
def test_state_dict_round_trip_continues_exactly_like_uninterrupted_training(make):
    tc.manual_seed(0)
    x, y = tc.randn(8, 3, dtype=np.float64), tc.randn(8, 1, dtype=np.float64)
    model = nn.Linear(3, 1).double()
    twin = copy.deepcopy(model)
    opt = make(model.parameters())
    _train(model, opt, x, y, 3)
    saved_model, saved_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    _train(model, opt, x, y, 2)

    twin.load_state_dict(saved_model)
    twin_opt = make(twin.parameters())
    twin_opt.load_state_dict(saved_opt)
    _train(twin, twin_opt, x, y, 2)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_with_wrong_shapes_or_group_count_raises_before_changing_anything():
    p = _scalar()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    _run(opt, [p], 1, lambda x: x)
    state = opt.state_dict()
    other = optim.SGD([nn.Parameter(np.ones(2))], lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match=r"momentum_buffer.*\(1,\).*\(2,\)"):
        other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.3 and other.state == {}
    with pytest.raises(ValueError, match="2 parameter groups"):
        optim.SGD([_scalar()], lr=0.1).load_state_dict({"state": {}, "param_groups": [{}, {}]})


@pytest.mark.parametrize("build, message", [
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([_scalar()], lr=-1), "lr=-1"),
    (lambda: optim.SGD([_scalar()], lr=0.1, nesterov=True), "Nesterov"),
    (lambda: optim.Adam([_scalar()], betas=(0.9, 1.5)), "betas"),
    (lambda: optim.SGD([{"params": [_scalar()], "beta": 1}], lr=0.1), "beta"),
])
def test_bad_options_raise_value_or_type_errors_naming_them(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_a_parameter_in_two_groups_is_refused():
    p = _scalar()
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


# ----- against torch ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
])
def test_updates_match_torch_over_several_steps_with_two_groups(name, options):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with PyTorch's optimizers")
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.03}], **options)
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}], **options)
    for step in range(5):
        grads = [np.sin(s * (step + 1)) + s for s in [p.detach().numpy() for p in ours]]
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = tc.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


# ----- options: checked when given, NumPy scalars taken, NaN refused -------------------------------
def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    sgd = optim.SGD([_scalar()], lr=np.float32(0.5), momentum=np.float64(0.9), dampening=np.float16(0),
                    weight_decay=np.int64(0), nesterov=np.bool_(True))
    group = sgd.param_groups[0]
    assert group["lr"] == float(np.float32(0.5)) and type(group["lr"]) is float
    assert type(group["momentum"]) is float and type(group["dampening"]) is float
    assert type(group["weight_decay"]) is int and group["nesterov"] is True
    adam = optim.Adam([_scalar()], lr=np.float64(0.1), betas=(np.float32(0.5), np.float64(0.75)),
                      eps=np.float32(0.25), amsgrad=np.bool_(False))
    group = adam.param_groups[0]
    assert group["betas"] == (0.5, 0.75) and all(type(b) is float for b in group["betas"])
    assert type(group["eps"]) is float and group["amsgrad"] is False


def test_numpy_scalar_options_step_exactly_like_the_python_numbers():
    a, b = _scalar(), _scalar()
    opt_a = optim.Adam([a], lr=np.float32(0.1), betas=(np.float32(0.8), np.float32(0.9)))
    opt_b = optim.Adam([b], lr=float(np.float32(0.1)), betas=(float(np.float32(0.8)), float(np.float32(0.9))))
    _run(opt_a, [a], 3, lambda x: x + 1)
    _run(opt_b, [b], 3, lambda x: x + 1)
    assert a.detach().numpy()[0] == b.detach().numpy()[0]


@pytest.mark.parametrize("make, name", [
    (lambda bad: optim.SGD([_scalar()], lr=bad), "lr"),
    (lambda bad: optim.SGD([_scalar()], lr=0.1, momentum=bad), "momentum"),
    (lambda bad: optim.SGD([_scalar()], lr=0.1, dampening=bad), "dampening"),
    (lambda bad: optim.SGD([_scalar()], lr=0.1, weight_decay=bad), "weight_decay"),
    (lambda bad: optim.Adam([_scalar()], lr=bad), "lr"),
    (lambda bad: optim.Adam([_scalar()], eps=bad), "eps"),
    (lambda bad: optim.AdamW([_scalar()], weight_decay=bad), "weight_decay"),
    (lambda bad: optim.Adam([_scalar()], betas=(bad, 0.9)), r"betas\[0\]"),
    (lambda bad: optim.Adam([_scalar()], betas=(0.9, bad)), r"betas\[1\]"),
])
@pytest.mark.parametrize("bad", [float("nan"), np.float32("nan"), float("inf"), -np.inf])
def test_nan_and_infinity_are_refused_for_every_numeric_option_naming_it(make, name, bad):
    # PyTorch takes lr=nan (every weight becomes NaN at the first step); we refuse it on purpose.
    with pytest.raises(ValueError, match=rf"{name}=-?(nan|inf)"):
        make(bad)


@pytest.mark.parametrize("make, error, message", [
    (lambda: optim.SGD([_scalar()], lr="0.1"), TypeError, "lr must be a real number, got str '0.1'"),
    (lambda: optim.SGD([_scalar()], lr=None), TypeError, "lr must be a real number, got NoneType"),
    (lambda: optim.SGD([_scalar()], lr=True), TypeError, "lr must be a real number, got bool"),
    (lambda: optim.SGD([_scalar()], lr=1 + 0j), TypeError, "lr must be a real number, got complex"),
    (lambda: optim.SGD([_scalar()], lr=0.1, momentum="0.9"), TypeError, "momentum must be a real number"),
    (lambda: optim.SGD([_scalar()], lr=0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True or False"),
    (lambda: optim.Adam([_scalar()], amsgrad="yes"), TypeError, "amsgrad must be True or False"),
    (lambda: optim.Adam([_scalar()], betas=0.9), TypeError, "betas must be a pair"),
    (lambda: optim.Adam([_scalar()], betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: optim.SGD([_scalar()], lr=tc.Tensor(np.array([0.1, 0.2]))), ValueError, r"lr .* one element.*\(2,\)"),
    (lambda: optim.SGD([_scalar()], lr=0.1, momentum=-0.5), ValueError, "momentum=-0.5"),
    (lambda: optim.SGD([_scalar()], lr=0.1, weight_decay=-1), ValueError, "weight_decay=-1"),
    (lambda: optim.Adam([_scalar()], eps=-1e-8), ValueError, "eps=-1e-08"),
    (lambda: optim.Adam([_scalar()], betas=(1.0, 0.9)), ValueError, r"betas\[0\]=1.0"),
    (lambda: optim.Adam([_scalar()], betas=(0.9, -0.1)), ValueError, r"betas\[1\]=-0.1"),
])
def test_bad_option_types_and_values_raise_naming_the_option(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_add_param_group_checks_its_options_and_adds_nothing_when_they_are_bad():
    opt = optim.SGD([_scalar()], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 1: invalid lr=nan"):
        opt.add_param_group({"params": [_scalar()], "lr": float("nan")})
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        opt.add_param_group({"params": [_scalar()], "nesterov": "no"})
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [_scalar()], "lr": np.float64(0.25)})
    assert type(opt.param_groups[1]["lr"]) is float and opt.param_groups[1]["lr"] == 0.25


def test_a_one_element_tensor_lr_is_read_once_as_a_number():
    lr = tc.Tensor(np.array(0.5))
    p = _scalar()
    opt = optim.SGD([p], lr=lr)
    assert opt.param_groups[0]["lr"] == 0.5 and type(opt.param_groups[0]["lr"]) is float
    lr.detach().numpy()[...] = 100.0  # the optimizer keeps its number: set group["lr"] to change it
    _run(opt, [p], 1, lambda x: x)
    assert p.detach().numpy()[0] == 0.5


def test_option_rules_match_torch_on_what_is_accepted_and_refused():
    torch = pytest.importorskip("torch", reason="torch is optional: compares the option checks with PyTorch")
    cases = [
        ("SGD", dict(lr=-1.0)), ("SGD", dict(lr=0.0)), ("SGD", dict(lr=0.1, momentum=-0.1)),
        ("SGD", dict(lr=0.1, momentum=1.5)), ("SGD", dict(lr=0.1, dampening=-0.5)),
        ("SGD", dict(lr=0.1, weight_decay=-0.1)), ("SGD", dict(lr=0.1, nesterov=True)),
        ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(eps=-1.0)), ("Adam", dict(eps=0.0, betas=(0.0, 0.0))),
        ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, 1.0))), ("Adam", dict(betas=(-0.1, 0.9))),
        ("Adam", dict(weight_decay=-1.0)), ("AdamW", dict(lr=-0.1)), ("AdamW", dict(weight_decay=0.0)),
    ]
    for name, options in cases:
        try:
            getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **options)
            torch_refuses = False
        except ValueError:
            torch_refuses = True
        try:
            getattr(optim, name)([_scalar()], **options)
            we_refuse = False
        except ValueError:
            we_refuse = True
        assert we_refuse == torch_refuses, (name, options)
    # A one-element tensor lr: torch takes it, and refuses one with more elements, as we do.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=torch.tensor([0.1]))
    optim.SGD([_scalar()], lr=tc.Tensor(np.array([0.1])))
    with pytest.raises(ValueError, match="1-element"):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=torch.tensor([0.1, 0.2]))


# ----- step: every gradient and state checked before anything changes ------------------------------
def _snapshot(opt):
    """Copies of every parameter, its version and its state, to compare after a failed call."""
    params = [p for group in opt.param_groups for p in group["params"]]
    return ([p.detach().numpy().copy() for p in params], [p._version for p in params],
            copy.deepcopy(opt.state), copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                                                     for g in opt.param_groups]))


def _assert_unchanged(opt, snapshot):
    params_before, versions_before, state_before, groups_before = snapshot
    params = [p for group in opt.param_groups for p in group["params"]]
    for p, before, version in zip(params, params_before, versions_before, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), before)
        assert p._version == version
    assert set(opt.state) == set(state_before)
    for key, entry in state_before.items():
        assert set(opt.state[key]) == set(entry)
        for name, value in entry.items():
            np.testing.assert_array_equal(opt.state[key][name], value, err_msg=name)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups_before


def _three_params_after_one_step(make):
    params = [nn.Parameter(np.arange(3.0)), nn.Parameter(np.ones(3)), nn.Parameter(np.full((2, 2), 2.0))]
    opt = make([{"params": params[:2]}, {"params": params[2:]}])
    _run(opt, params, 1, lambda x: x + 1)
    return params, opt


_OPTIMIZERS = [
    lambda groups: optim.SGD(groups, lr=0.1, momentum=0.9),
    lambda groups: optim.Adam(groups, lr=0.1, amsgrad=True),
    lambda groups: optim.AdamW(groups, lr=0.1),
]


@pytest.mark.parametrize("make", _OPTIMIZERS)
@pytest.mark.parametrize("bad_grad, where", [
    (np.ones(1), r"parameter 1 of group 0: the gradient has shape \(1,\), but the parameter has shape \(3,\)"),
    (np.ones((3, 1)), r"parameter 1 of group 0: the gradient has shape \(3, 1\), but .* shape \(3,\)"),
])
def test_a_wrong_shape_gradient_raises_naming_the_parameter_and_changes_nothing(make, bad_grad, where):
    params, opt = _three_params_after_one_step(make)
    for p in params:
        p.grad = tc.Tensor(p.detach().numpy() + 1)
    params[1].grad = tc.Tensor(bad_grad)  # would broadcast onto the parameter
    snapshot = _snapshot(opt)
    with pytest.raises(RuntimeError, match=where):
        opt.step()
    _assert_unchanged(opt, snapshot)


@pytest.mark.parametrize("make", _OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128])
def test_a_non_float_gradient_raises_type_error_and_changes_nothing(make, dtype):
    params, opt = _three_params_after_one_step(make)
    for p in params:
        p.grad = tc.Tensor(p.detach().numpy() + 1)
    params[2].grad = tc.Tensor._make(np.ones((2, 2), dtype), None)  # _make: Tensor() itself refuses complex
    snapshot = _snapshot(opt)
    with pytest.raises(TypeError, match=rf"parameter 0 of group 1: the gradient has dtype {np.dtype(dtype)}"):
        opt.step()
    _assert_unchanged(opt, snapshot)


@pytest.mark.parametrize("make", _OPTIMIZERS)
def test_a_parameter_replaced_by_an_array_of_another_shape_is_refused_by_step(make):
    params, opt = _three_params_after_one_step(make)
    params[2].data = np.ones(4)  # the state still holds (2, 2) arrays
    for p in params:
        p.grad = tc.Tensor(p.detach().numpy() + 1)
    snapshot = _snapshot(opt)
    with pytest.raises(RuntimeError, match=r"parameter 0 of group 1 \(shape \(4,\)\).*\(2, 2\)"):
        opt.step()
    _assert_unchanged(opt, snapshot)


def test_a_gradient_that_is_not_a_tensor_is_refused():
    p = _scalar()
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones(1)
    with pytest.raises(TypeError, match=r"\.grad must be a Tensor"):
        opt.step()
    assert p.detach().numpy()[0] == 1.0


def test_options_changed_after_construction_are_checked_by_step_before_anything_changes():
    params, opt = _three_params_after_one_step(lambda g: optim.Adam(g, lr=0.1))
    opt.param_groups[1]["lr"] = float("nan")
    for p in params:
        p.grad = tc.Tensor(p.detach().numpy() + 1)
    snapshot = _snapshot(opt)
    with pytest.raises(ValueError, match="parameter group 1: invalid lr=nan"):
        opt.step()
    _assert_unchanged(opt, snapshot)
    # Turning amsgrad on mid-training leaves a state without its maximum (torch: KeyError half-way).
    opt.param_groups[1]["lr"] = 0.1
    opt.param_groups[1]["amsgrad"] = True
    with pytest.raises(RuntimeError, match=r"parameter 0 of group 1.*missing state entries \['max_exp_avg_sq'\]"):
        opt.step()
    _assert_unchanged(opt, _snapshot(opt))


def test_a_gradient_of_another_float_width_is_cast_to_the_parameter_dtype():
    p = nn.Parameter(np.ones(2, np.float32))
    opt = optim.SGD([p], lr=0.5)
    p.grad = tc.Tensor(np.array([1.0, 0.1], np.float64))
    opt.step()
    assert p.dtype == np.float32
    np.testing.assert_array_equal(
        p.detach().numpy(), np.float32(1) - np.float32(0.5) * np.array([1.0, 0.1], np.float32)
    )


# ----- load_state_dict: the whole state checked before anything changes ---------------------------
def _adam_after_steps(amsgrad=False):
    params = [nn.Parameter(np.arange(3.0)), nn.Parameter(np.ones((2, 2)))]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1, amsgrad=amsgrad)
    _run(opt, params, 2, lambda x: x + 1)
    return params, opt


def _copied_state_dict(opt):
    return copy.deepcopy(opt.state_dict())


def _set(path, value):
    """A change to a state dict: `path` is the chain of keys, the last one set to `value` (or deleted)."""
    def change(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()


@pytest.mark.parametrize("change, message", [
    (_set(["state", 0, "exp_avg_sq"], _DELETE), r"state of parameter 0 .*missing state entries \['exp_avg_sq'\]"),
    (_set(["state", 1, "exp_avg"], tc.Tensor(np.ones(4))),
     r"parameter 1 \(group 1, position 0, shape \(2, 2\)\).*'exp_avg' has shape \(4,\)"),
    (_set(["state", 0, "exp_avg"], tc.Tensor(np.ones(3, np.int64))), r"'exp_avg' must be a floating point.*int64"),
    (_set(["state", 0, "exp_avg"], [0.0, 0.0, 0.0]), r"'exp_avg' must be a floating point array, got list"),
    (_set(["state", 0, "exp_avg"], None), r"'exp_avg' must be a floating point array, got NoneType"),
    (_set(["state", 0, "exp_avg"], tc.Tensor(np.array([0, np.nan, 0]))), r"'exp_avg' holds NaN"),
    (_set(["state", 0, "exp_avg_sq"], tc.Tensor(np.array([0.0, -1.0, 0.0]))), r"'exp_avg_sq'.*negative"),
    (_set(["state", 0, "step"], -1), r"'step' must be >= 0, got -1"),
    (_set(["state", 0, "step"], 2.5), r"'step' must be a whole number, got 2.5"),
    (_set(["state", 0, "step"], "2"), r"'step' must be a number, got str"),
    (_set(["state", 0, "step"], np.array([2.0])), r"'step' must be a number or a 0-d tensor"),
    (_set(["state", 0, "momentum_buffer"], tc.Tensor(np.ones(3))), r"unknown state entries 'momentum_buffer'"),
    (_set(["state", 7], {}), r"state for parameter 7, which no group lists"),
    (_set(["state", 0], [1, 2]), r"state of parameter 0 .*expected a dict, got list"),
    (_set(["param_groups", 0, "lr"], float("nan")), r"group 0: invalid lr=nan"),
    (_set(["param_groups", 1, "betas"], (0.9, 1.0)), r"group 1: invalid betas\[1\]=1.0"),
    (_set(["param_groups", 0, "amsgrad"], 1), r"group 0: amsgrad must be True or False"),
    (_set(["param_groups", 0, "eps"], _DELETE), r"group 0: missing options \['eps'\]"),
    (_set(["param_groups", 0, "momentum"], 0.9), r"group 0: unknown options 'momentum' \(known"),
    (_set(["param_groups", 0, "maximize"], True), r"group 0: PyTorch option maximize=True is not supported"),
    (_set(["param_groups", 0, "decoupled_weight_decay"], True), r"decoupled_weight_decay=True is not supported"),
    (_set(["param_groups", 0, "amsgrad"], True), r"parameter 0 .*missing state entries \['max_exp_avg_sq'\]"),
    (_set(["param_groups", 1, "params"], [1, 2]), r"group 1 has 2 parameters in the state but 1 in the optimizer"),
    (_set(["param_groups", 1, "params"], [0]), r"parameter id 0 is listed more than once"),
    (_set(["param_groups", 1, "params"], ["x"]), r"parameter id 'x' is not an integer"),
    (_set(["extra"], 1), r"keys 'state' and 'param_groups'"),
    (_set(["state"], [1]), r"'state' a dict"),
    (_set(["param_groups"], [{}]), r"1 parameter groups but the optimizer has 2"),
])
def test_load_state_dict_refuses_a_bad_state_and_leaves_the_optimizer_unchanged(change, message):
    _, source = _adam_after_steps()
    state = _copied_state_dict(source)
    change(state)
    _, opt = _adam_after_steps()
    opt.param_groups[0]["lr"] = 0.3  # so that a half-done load would show
    snapshot = _snapshot(opt)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    _assert_unchanged(opt, snapshot)


def test_load_state_dict_lists_every_problem_in_one_error():
    _, source = _adam_after_steps()
    state = _copied_state_dict(source)
    del state["state"][0]["exp_avg_sq"]
    state["state"][1]["exp_avg"] = tc.Tensor(np.ones(5))
    state["param_groups"][0]["lr"] = -1
    _, opt = _adam_after_steps()
    with pytest.raises(ValueError) as error:
        opt.load_state_dict(state)
    message = str(error.value)
    assert "exp_avg_sq" in message and "(5,)" in message and "lr=-1" in message and "nothing was changed" in message


def test_load_state_dict_needs_the_amsgrad_maximum_only_with_amsgrad():
    _, source = _adam_after_steps(amsgrad=True)
    state = _copied_state_dict(source)
    _, opt = _adam_after_steps(amsgrad=True)
    opt.load_state_dict(copy.deepcopy(state))
    for group in state["param_groups"]:
        group["amsgrad"] = False
    _, plain = _adam_after_steps()
    plain.load_state_dict(state)  # the maximum is kept, unused, as torch keeps it
    assert plain.param_groups[0]["amsgrad"] is False


@pytest.mark.parametrize("entry", [{}, {"momentum_buffer": None}])
def test_sgd_state_without_a_momentum_buffer_loads_as_in_torch(entry):
    p = _scalar()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict({"state": {0: entry}, "param_groups": [
        {"lr": 0.2, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "params": [0]}]})
    _run(opt, [p], 2, lambda x: x)
    # The buffer starts from the first gradient: 1 -> 0.8 -> 0.8 - 0.2 * (0.9 * 1 + 0.8).
    assert p.detach().numpy()[0] == pytest.approx(0.8 - 0.2 * (0.9 + 0.8), abs=1e-15)


def test_load_state_dict_takes_a_step_count_as_a_0d_array_and_casts_arrays_to_the_parameter_dtype():
    _, source = _adam_after_steps()
    state = _copied_state_dict(source)
    state["state"][0]["step"] = np.array(2.0, np.float32)  # torch's layout
    state["state"][0]["exp_avg"] = state["state"][0]["exp_avg"].detach().numpy().astype(np.float32)
    _, opt = _adam_after_steps()
    opt.load_state_dict(state)
    entry = opt.state[id(opt.param_groups[0]["params"][0])]
    assert entry["step"] == 2 and type(entry["step"]) is int and entry["exp_avg"].dtype == np.float64


def test_loaded_state_is_a_copy_and_options_are_normalized():
    _, source = _adam_after_steps()
    state = _copied_state_dict(source)
    state["param_groups"][0]["lr"] = np.float32(0.25)
    _, opt = _adam_after_steps()
    opt.load_state_dict(state)
    assert type(opt.param_groups[0]["lr"]) is float and opt.param_groups[0]["lr"] == 0.25
    state["state"][0]["exp_avg"].detach().numpy()[...] = 123.0
    assert not (opt.state[id(opt.param_groups[0]["params"][0])]["exp_avg"] == 123.0).any()


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
])
def test_a_state_dict_from_torch_loads_and_training_continues_like_torch(name, options):
    torch = pytest.importorskip("torch", reason="torch is optional: loads PyTorch's optimizer state")
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}], **options)

    def gradients(step, values):
        return [np.sin(v * (step + 1)) + v for v in values]

    for step in range(3):
        for t, g in zip(theirs, gradients(step, [t.detach().numpy() for t in theirs]), strict=True):
            t.grad = torch.tensor(g)
        topt.step()
    saved = topt.state_dict()
    converted = {
        "state": {k: {n: v.numpy().copy() if isinstance(v, torch.Tensor) else v for n, v in entry.items()}
                  for k, entry in saved["state"].items()},
        "param_groups": copy.deepcopy(saved["param_groups"]),
    }
    ours = [nn.Parameter(t.detach().numpy().copy()) for t in theirs]
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:]}], lr=0.5)
    opt.load_state_dict(converted)
    assert opt.param_groups[1]["lr"] == 0.03 and set(opt.param_groups[0]) == set(opt.defaults) | {"params"}
    for step in range(3, 6):
        grads = gradients(step, [p.detach().numpy() for p in ours])
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = tc.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_a_torch_adam_state_is_refused_by_adamw_and_the_reverse():
    torch = pytest.importorskip("torch", reason="torch is optional: loads PyTorch's optimizer state")
    for torch_name, ours_name in [("Adam", "AdamW"), ("AdamW", "Adam")]:
        t = torch.zeros(2, requires_grad=True)
        groups = getattr(torch.optim, torch_name)([t]).state_dict()["param_groups"]
        opt = getattr(optim, ours_name)([nn.Parameter(np.zeros(2))])
        with pytest.raises(ValueError, match="decoupled_weight_decay"):
            opt.load_state_dict({"state": {}, "param_groups": groups})


# ----- a saved state resumes training bit-identically ---------------------------------------------
@pytest.mark.parametrize("make", [
    lambda groups: optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda groups: optim.Adam(groups, lr=0.05, amsgrad=True, weight_decay=0.01),
    lambda groups: optim.AdamW(groups, lr=0.05, betas=(0.8, 0.95)),
])
def test_an_optimizer_state_saved_to_a_file_resumes_training_bit_identically(make, tmp_path):
    def build():
        tc.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        opt = make([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.02}])
        return model, opt

    tc.manual_seed(1)
    x, y = tc.randn(8, 3), tc.randn(8, 1)
    model, opt = build()
    _train(model, opt, x, y, 3)
    tc.save(model.state_dict(), tmp_path / "model.npz")
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    _train(model, opt, x, y, 3)

    resumed, resumed_opt = build()
    resumed.load_state_dict(tc.load(tmp_path / "model.npz"))
    resumed_opt.load_state_dict(tc.load(tmp_path / "opt.npz"))
    _train(resumed, resumed_opt, x, y, 3)
    for a, b in zip(model.parameters(), resumed.parameters(), strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for (_, a), (_, b) in zip(sorted(opt.state_dict()["state"].items()),
                              sorted(resumed_opt.state_dict()["state"].items()), strict=True):
        for name in a:
            np.testing.assert_array_equal(np.asarray(getattr(a[name], "data", a[name])),
                                          np.asarray(getattr(b[name], "data", b[name])), err_msg=name)
