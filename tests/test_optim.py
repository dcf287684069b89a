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
            p.grad = tc.Tensor(gradient(p.data))
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
        assert p.data[0] == pytest.approx(value, abs=1e-12)


def test_adam_moves_by_lr_per_step_under_a_constant_gradient():
    # With a constant gradient g the bias-corrected moments are g and g**2: each step is lr*g/(|g|+eps).
    p = _scalar()
    opt = optim.Adam([p], lr=0.1)
    _run(opt, [p], 3, lambda x: np.full_like(x, 2.0))
    assert p.data[0] == pytest.approx(1 - 3 * 0.1 * 2 / (2 + 1e-8), abs=1e-12)
    assert opt.state_dict()["state"][0]["step"] == 3


def test_adamw_decays_weights_before_the_adam_step_and_adam_adds_decay_to_the_gradient():
    p = _scalar()
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1)
    _run(opt, [p], 2, lambda x: np.full_like(x, 2.0))
    step = 0.1 * 2 / (2 + 1e-8)
    assert p.data[0] == pytest.approx((1 * 0.99 - step) * 0.99 - step, abs=1e-12)
    q = _scalar()
    _run(optim.Adam([q], lr=0.1, weight_decay=0.5), [q], 1, lambda x: np.zeros_like(x))
    # The gradient is then 0.5 * q only: the first Adam step moves by lr * sign of it.
    assert q.data[0] == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-12)


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
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == 1.0 and b._version == 0


def test_parameter_groups_use_their_own_options_and_defaults_for_the_rest():
    a, b = _scalar(), _scalar()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["momentum"] == 0.9
    _run(opt, [a, b], 1, lambda x: x)
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.5)


def test_zero_grad_drops_or_zeroes():
    p = _scalar()
    opt = optim.SGD([p], lr=0.1)
    p.grad = tc.Tensor(np.array([3.0]))
    opt.zero_grad(set_to_none=False)
    assert p.grad.data[0] == 0
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

    assert opt.step(closure).item() == pytest.approx(2.0) and p.data[0] == pytest.approx(1.5)


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
        np.testing.assert_array_equal(a.data, b.data)


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
    (lambda: optim.SGD([_scalar()], lr=-1), "learning rate -1"),
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
        grads = [np.sin(s * (step + 1)) + s for s in [p.data for p in ours]]
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = tc.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
