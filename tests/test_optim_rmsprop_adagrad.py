"""optim.RMSprop and optim.Adagrad: hand-computed first steps, torch's trajectories, options, state dicts."""

import copy

import numpy as np
import pytest
from test_optim import _run, _scalar  # the same helpers as for SGD and Adam

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim


# ----- hand-computed steps ----------------------------------------------------------------------
def test_rmsprop_first_step_divides_by_the_root_of_the_weighted_square():
    p = _scalar(1.0)
    _run(optim.RMSprop([p], lr=0.01, alpha=0.9), [p], 1, lambda x: np.full_like(x, 2.0))
    # v = 0.1 * 4 = 0.4, p = 1 - 0.01 * 2 / (sqrt(0.4) + 1e-8)
    assert p.detach().numpy()[0] == pytest.approx(1 - 0.01 * 2 / (np.sqrt(0.4) + 1e-8), abs=1e-15)


def test_rmsprop_centered_with_momentum_follows_the_hand_computed_rule():
    p = _scalar(1.0)
    opt = optim.RMSprop([p], lr=0.1, alpha=0.5, momentum=0.5, centered=True, eps=0.0)
    _run(opt, [p], 2, lambda x: np.full_like(x, 2.0))
    # Step 1: v = 2, m = 1, denominator sqrt(2 - 1) = 1, b = 2, p = 1 - 0.2 = 0.8.
    # Step 2: v = 3, m = 1.5, denominator sqrt(3 - 2.25), b = 1 + 2 / sqrt(0.75).
    assert p.detach().numpy()[0] == pytest.approx(0.8 - 0.1 * (1 + 2 / np.sqrt(0.75)), abs=1e-15)
    state = opt.state_dict()["state"][0]
    assert state["step"] == 2 and set(state) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


def test_adagrad_accumulates_squares_and_decays_the_learning_rate():
    p = _scalar(1.0)
    opt = optim.Adagrad([p], lr=0.5, lr_decay=1.0, initial_accumulator_value=5.0, eps=0.0)
    _run(opt, [p], 2, lambda x: np.full_like(x, 2.0))
    # Step 1: sum 9, p = 1 - 0.5 * 2 / 3; step 2: sum 13, clr = 0.5 / 2.
    assert p.detach().numpy()[0] == pytest.approx(1 - 1 / 3 - 0.25 * 2 / np.sqrt(13), abs=1e-15)


def test_adagrad_makes_its_state_when_the_group_is_added_as_torch_does():
    a, b = _scalar(), nn.Parameter(np.zeros((2, 2), np.float32))
    opt = optim.Adagrad([a], initial_accumulator_value=0.25)
    opt.add_param_group({"params": [b], "initial_accumulator_value": 0.5})
    state = opt.state_dict()["state"]
    assert state[0]["step"] == 0 and state[0]["sum"].detach().numpy().tolist() == [0.25]
    assert state[1]["sum"].dtype == np.float32 and (state[1]["sum"].detach().numpy() == 0.5).all()


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
])
def test_float32_parameters_and_state_stay_float32(make):
    p = nn.Parameter(np.ones((2, 3), np.float32))
    opt = make([p])
    _run(opt, [p], 2, lambda x: x * 0.5)
    assert p.dtype == np.float32 and p._version == 2
    for value in opt.state_dict()["state"][0].values():
        if isinstance(value, tc.Tensor):
            assert value.dtype == np.float32


# ----- against torch ------------------------------------------------------------------------------
_AGAINST_TORCH = [
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, momentum=0.8)),  # alpha <= 0.5: torch's other form of lerp
    ("RMSprop", dict(lr=0.02, alpha=0.95, momentum=0.5, centered=True, eps=1e-6)),
    ("RMSprop", dict(lr=0.02, alpha=0.4, centered=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.05, initial_accumulator_value=0.5, eps=1e-6)),
]


# float32: torch's vector kernels fuse multiply-adds; centered RMSprop's sqrt(v - m**2) cancels, so the last
# bits differ by more than rtol alone allows near zero.
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-12, 1e-14), (np.float32, 1e-5, 1e-5)])
@pytest.mark.parametrize("name, options", _AGAINST_TORCH)
def test_updates_match_torch_over_several_steps_with_two_groups(name, options, dtype, rtol, atol):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with PyTorch's optimizers")
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=(3, 2)).astype(dtype), rng.normal(size=4).astype(dtype)]
    ours = [nn.Parameter(s.copy()) for s in starts]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.03}], **options)
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}], **options)
    for step in range(6):
        grads = [(np.sin(p.detach().numpy() * (step + 1)) + p.detach().numpy()).astype(dtype) for p in ours]
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = tc.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    theirs_state = topt.state_dict()["state"]
    for key, entry in opt.state_dict()["state"].items():
        assert set(entry) == set(theirs_state[key])
        for state_name, value in entry.items():
            expected = theirs_state[key][state_name]
            np.testing.assert_allclose(np.asarray(getattr(value, "data", value)), expected.numpy(), rtol=rtol,
                                       atol=atol, err_msg=state_name)


@pytest.mark.parametrize("name, options", _AGAINST_TORCH)
def test_a_state_dict_from_torch_loads_and_training_continues_like_torch(name, options):
    torch = pytest.importorskip("torch", reason="torch is optional: loads PyTorch's optimizer state")
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}], **options)
    for step in range(3):
        for t in theirs:
            t.grad = torch.cos(t.detach() * (step + 1))
        topt.step()
    saved = topt.state_dict()
    converted = {"state": {k: {n: v.numpy().copy() for n, v in entry.items()} for k, entry in saved["state"].items()},
                 "param_groups": copy.deepcopy(saved["param_groups"])}
    ours = [nn.Parameter(t.detach().numpy().copy()) for t in theirs]
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:]}], lr=0.5)
    opt.load_state_dict(converted)
    assert opt.param_groups[1]["lr"] == 0.03
    for step in range(3, 6):
        for p, t in zip(ours, theirs, strict=True):
            g = np.cos(p.detach().numpy() * (step + 1))
            p.grad, t.grad = tc.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


# ----- options ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, name", [
    (lambda bad: optim.RMSprop([_scalar()], lr=bad), "lr"),
    (lambda bad: optim.RMSprop([_scalar()], alpha=bad), "alpha"),
    (lambda bad: optim.RMSprop([_scalar()], eps=bad), "eps"),
    (lambda bad: optim.RMSprop([_scalar()], momentum=bad), "momentum"),
    (lambda bad: optim.RMSprop([_scalar()], weight_decay=bad), "weight_decay"),
    (lambda bad: optim.Adagrad([_scalar()], lr=bad), "lr"),
    (lambda bad: optim.Adagrad([_scalar()], lr_decay=bad), "lr_decay"),
    (lambda bad: optim.Adagrad([_scalar()], weight_decay=bad), "weight_decay"),
    (lambda bad: optim.Adagrad([_scalar()], initial_accumulator_value=bad), "initial_accumulator_value"),
    (lambda bad: optim.Adagrad([_scalar()], eps=bad), "eps"),
])
@pytest.mark.parametrize("bad", [float("nan"), np.float32("nan"), float("inf"), -1.0])
def test_nan_infinity_and_negative_options_are_refused_naming_them(make, name, bad):
    with pytest.raises(ValueError, match=rf"invalid {name}=-?(nan|inf|1)"):
        make(bad)


@pytest.mark.parametrize("make, error, message", [
    (lambda: optim.RMSprop([_scalar()], alpha=1.5), ValueError, r"alpha=1.5.*\[0, 1\]"),
    (lambda: optim.RMSprop([_scalar()], centered=1), TypeError, "centered must be True or False"),
    (lambda: optim.RMSprop([_scalar()], momentum="0.9"), TypeError, "momentum must be a real number"),
    (lambda: optim.Adagrad([_scalar()], lr_decay=None), TypeError, "lr_decay must be a real number"),
    (lambda: optim.Adagrad([_scalar()], betas=(0.9, 0.99)), TypeError, "betas"),
    (lambda: optim.RMSprop([{"params": [_scalar()], "centred": True}]), TypeError, r"unknown option.*centred"),
])
def test_bad_option_types_and_values_raise_naming_the_option(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    group = optim.RMSprop([_scalar()], lr=np.float32(0.5), alpha=np.float64(0.9), momentum=np.int64(0),
                          centered=np.bool_(True)).param_groups[0]
    assert type(group["lr"]) is float and type(group["alpha"]) is float and type(group["momentum"]) is int
    assert group["centered"] is True
    adagrad = optim.Adagrad([_scalar()], lr_decay=np.float32(0.25), initial_accumulator_value=np.float64(1))
    group = adagrad.param_groups[0]
    assert group["lr_decay"] == 0.25 and type(group["initial_accumulator_value"]) is float


def test_option_rules_match_torch_on_what_is_accepted_and_refused():
    torch = pytest.importorskip("torch", reason="torch is optional: compares the option checks with PyTorch")
    cases = [
        ("RMSprop", dict(lr=-0.1)), ("RMSprop", dict(alpha=-0.1)), ("RMSprop", dict(alpha=0.0)),
        ("RMSprop", dict(alpha=1.0)), ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(momentum=-0.5)),
        ("RMSprop", dict(weight_decay=-1.0)), ("RMSprop", dict(momentum=0.0, centered=True)),
        ("Adagrad", dict(lr=-0.1)), ("Adagrad", dict(lr_decay=-0.1)), ("Adagrad", dict(weight_decay=-0.1)),
        ("Adagrad", dict(initial_accumulator_value=-0.1)), ("Adagrad", dict(eps=-1e-10)), ("Adagrad", dict(eps=0.0)),
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
    # The one difference, on purpose: torch takes alpha > 1, which makes the average of squares negative.
    torch.optim.RMSprop([torch.zeros(1, requires_grad=True)], alpha=1.5)
    with pytest.raises(ValueError, match="alpha=1.5"):
        optim.RMSprop([_scalar()], alpha=1.5)


# ----- state dicts --------------------------------------------------------------------------------
def _train(model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
])
def test_state_dict_round_trip_through_a_file_continues_bit_identically(make, tmp_path):
    tc.manual_seed(0)
    x, y = tc.randn(8, 3, dtype=np.float64), tc.randn(8, 1, dtype=np.float64)
    model = nn.Linear(3, 1).double()
    twin = copy.deepcopy(model)
    opt = make(model.parameters())
    _train(model, opt, x, y, 3)
    tc.save(model.state_dict(), tmp_path / "model.npz")
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    _train(model, opt, x, y, 2)

    twin.load_state_dict(tc.load(tmp_path / "model.npz"))
    twin_opt = make(twin.parameters())
    twin_opt.load_state_dict(tc.load(tmp_path / "opt.npz"))
    _train(twin, twin_opt, x, y, 2)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _after_steps(make):
    params = [nn.Parameter(np.arange(3.0)), nn.Parameter(np.ones((2, 2)))]
    opt = make([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}])
    _run(opt, params, 2, lambda x: x + 1)
    return params, opt


_RMSPROP = lambda groups: optim.RMSprop(groups, lr=0.1, momentum=0.9, centered=True)  # noqa: E731
_ADAGRAD = lambda groups: optim.Adagrad(groups, lr=0.1)  # noqa: E731


@pytest.mark.parametrize("make, change, message", [
    (_RMSPROP, lambda s: s["state"][0].pop("grad_avg"), r"parameter 0 .*missing state entries \['grad_avg'\]"),
    (_RMSPROP, lambda s: s["state"][1].update(square_avg=tc.Tensor(-np.ones((2, 2)))), r"'square_avg'.*negative"),
    (_RMSPROP, lambda s: s["state"][1].update(momentum_buffer=tc.Tensor(np.ones(3))),
     r"'momentum_buffer' has shape \(3,\), but the parameter has shape \(2, 2\)"),
    (_RMSPROP, lambda s: s["param_groups"][0].update(alpha=2.0), r"group 0: invalid alpha=2.0"),
    (_RMSPROP, lambda s: s["state"][0].update(exp_avg=tc.Tensor(np.ones(3))), r"unknown state entries 'exp_avg'"),
    (_ADAGRAD, lambda s: s["state"][0].pop("sum"), r"missing state entries \['sum'\]"),
    (_ADAGRAD, lambda s: s["state"][0].update(sum=tc.Tensor(np.array([0.0, np.nan, 1.0]))), r"'sum' holds NaN"),
    (_ADAGRAD, lambda s: s["state"][0].update(sum=tc.Tensor(np.array([0.0, -1.0, 1.0]))), r"'sum'.*negative"),
    (_ADAGRAD, lambda s: s["param_groups"][1].update(lr_decay=-1), r"group 1: invalid lr_decay=-1"),
    (_ADAGRAD, lambda s: s["param_groups"][1].pop("eps"), r"group 1: missing options \['eps'\]"),
])
def test_load_state_dict_refuses_a_bad_state_and_leaves_the_optimizer_unchanged(make, change, message):
    _, source = _after_steps(make)
    state = copy.deepcopy(source.state_dict())
    change(state)
    _, opt = _after_steps(make)
    opt.param_groups[0]["lr"] = 0.3
    before = copy.deepcopy((opt.state, [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]))
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before[1]
    assert set(opt.state) == set(before[0])
    for key, entry in before[0].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(opt.state[key][name], value)


def test_adagrad_without_a_saved_entry_starts_that_parameter_afresh():
    p = _scalar(1.0)
    opt = optim.Adagrad([p], lr=0.5, initial_accumulator_value=5.0, eps=0.0)
    opt.load_state_dict({"state": {}, "param_groups": [opt.state_dict()["param_groups"][0]]})
    _run(opt, [p], 1, lambda x: np.full_like(x, 2.0))
    assert p.detach().numpy()[0] == pytest.approx(1 - 0.5 * 2 / 3, abs=1e-15)
