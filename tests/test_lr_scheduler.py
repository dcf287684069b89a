"""optim.lr_scheduler: torch's lr sequences, initial_lr in the groups, state dicts, and bad settings refused."""

import copy
import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.optim import lr_scheduler
from tinygrad_cnn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)


def _sgd(lr=0.1, momentum=0.9, groups=2):
    params = [nn.Parameter(np.zeros(2)) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr / (i + 1)} for i, p in enumerate(params)], lr=lr, momentum=momentum)


def _lrs(scheduler, steps):
    """The lr of every group after construction and after each of `steps` optimizer+scheduler steps."""
    history = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        history.append(scheduler.get_last_lr())
    return history


# ----- values pinned without torch ------------------------------------------------------------------
def test_import_paths_match_torch():
    import tinygrad_cnn.optim.lr_scheduler as module

    assert module is lr_scheduler is tc.optim.lr_scheduler and module.StepLR is StepLR
    assert issubclass(StepLR, lr_scheduler.LRScheduler)


def test_step_lr_multiplies_every_step_size_epochs_and_sets_initial_lr():
    opt = _sgd(groups=1)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1 and scheduler.base_lrs == [0.1]
    assert [lrs[0] for lrs in _lrs(scheduler, 5)] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert opt.state_dict()["param_groups"][0]["initial_lr"] == 0.1  # as torch's optimizer state holds it


def test_multistep_exponential_lambda_and_cosine_follow_their_formulas():
    assert [x[0] for x in _lrs(MultiStepLR(_sgd(groups=1), [1, 3, 3], gamma=0.5), 4)] == [0.1, 0.05, 0.05, 0.0125,
                                                                                           0.0125]
    assert [x[0] for x in _lrs(ExponentialLR(_sgd(groups=1), 0.5), 3)] == [0.1, 0.05, 0.025, 0.0125]
    assert [x[0] for x in _lrs(LambdaLR(_sgd(groups=1), lambda e: 1 / (e + 1)), 3)] == [0.1, 0.05, 0.1 / 3, 0.025]
    cosine = [x[0] for x in _lrs(CosineAnnealingLR(_sgd(groups=1), T_max=4, eta_min=0.02), 8)]
    expected = [0.02 + 0.08 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(9)]
    np.testing.assert_allclose(cosine, expected, rtol=1e-12, atol=1e-15)


def test_one_cycle_goes_up_then_down_and_moves_momentum_the_other_way():
    opt = _sgd(groups=1)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3, anneal_strategy="linear")
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (0.04, 1.0, 0.04 / 1e4)
    assert group["momentum"] == 0.95 and group["max_momentum"] == 0.95 and group["base_momentum"] == 0.85
    lrs, momenta = [], []
    for _ in range(9):
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(group["momentum"])
        opt.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(0.04) and lrs[2] == pytest.approx(1.0) and lrs[-1] < lrs[-2] < lrs[2]
    assert momenta[2] == pytest.approx(0.85) and momenta[0] == pytest.approx(0.95)


def test_one_cycle_with_adam_cycles_beta1_and_keeps_beta2():
    opt = optim.Adam([nn.Parameter(np.zeros(2))], betas=(0.5, 0.99))
    scheduler = OneCycleLR(opt, max_lr=0.01, total_steps=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    opt.step()
    scheduler.step()
    assert 0.85 < opt.param_groups[0]["betas"][0] < 0.95 and opt.param_groups[0]["betas"][1] == 0.99


def test_reduce_on_plateau_waits_patience_epochs_then_cools_down():
    opt = _sgd(groups=1)
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.02)
    lrs = []
    for metric in [1.0] * 8 + [0.5] * 3:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    # Reduced when 2 epochs in a row were no better (patience 1); the epoch after a reduction is not counted.
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.025, 0.02]
    assert "initial_lr" not in opt.param_groups[0]


def test_reduce_on_plateau_takes_a_one_element_tensor_and_refuses_others():
    scheduler = ReduceLROnPlateau(_sgd(groups=1))
    scheduler.step(tc.tensor([0.5]))
    assert scheduler.best == 0.5
    with pytest.raises(ValueError, match=r"one number.*\(2,\)"):
        scheduler.step(tc.tensor([0.5, 0.4]))
    with pytest.raises(TypeError, match="metrics must be a number, got str"):
        scheduler.step("0.5")


def test_stepping_the_scheduler_before_the_optimizer_warns_as_torch():
    scheduler = StepLR(_sgd(), 2)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        scheduler.step()
    opt = _sgd()
    scheduler = StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_resuming_with_last_epoch_needs_initial_lr_in_the_groups():
    with pytest.raises(KeyError, match=r"initial_lr.*param_groups\[0\]"):
        StepLR(_sgd(), 3, last_epoch=4)
    opt = _sgd()
    opt.param_groups[0]["initial_lr"] = opt.param_groups[1]["initial_lr"] = 1.0
    scheduler = StepLR(opt, 3, last_epoch=4)
    assert scheduler.last_epoch == 5 and scheduler.base_lrs == [1.0, 1.0]


def test_the_optimizer_takes_initial_lr_in_groups_and_state_dicts_and_checks_it():
    p = nn.Parameter(np.zeros(2))
    opt = optim.SGD([{"params": [p], "initial_lr": np.float32(0.5)}], lr=0.1)
    assert opt.param_groups[0]["initial_lr"] == 0.5 and type(opt.param_groups[0]["initial_lr"]) is float
    with pytest.raises(ValueError, match="initial_lr=nan"):
        optim.SGD([{"params": [nn.Parameter(np.zeros(2))], "initial_lr": float("nan")}], lr=0.1)
    saved = opt.state_dict()
    fresh = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.3)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["initial_lr"] == 0.5 and fresh.param_groups[0]["lr"] == 0.1
    saved["param_groups"][0]["max_lr"] = -1.0
    with pytest.raises(ValueError, match="max_lr=-1.0"):
        fresh.load_state_dict(saved)
    # A saved group without initial_lr replaces one with it, as torch's load_state_dict does.
    del saved["param_groups"][0]["initial_lr"], saved["param_groups"][0]["max_lr"]
    fresh.load_state_dict(saved)
    assert "initial_lr" not in fresh.param_groups[0]


# ----- bad settings --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda o: StepLR(o, 0), ValueError, "step_size=0"),
    (lambda o: StepLR(o, 2.5), TypeError, "step_size must be an integer"),
    (lambda o: StepLR(o, 2, gamma=float("nan")), ValueError, "gamma=nan"),
    (lambda o: StepLR(o, 2, last_epoch=-2), ValueError, "last_epoch=-2"),
    (lambda o: MultiStepLR(o, [2, -1]), ValueError, r"milestones\[1\]=-1"),
    (lambda o: MultiStepLR(o, 3), TypeError, "milestones must be a list"),
    (lambda o: ExponentialLR(o, -0.5), ValueError, "gamma=-0.5"),
    (lambda o: CosineAnnealingLR(o, 0), ValueError, "T_max=0"),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=float("inf")), ValueError, "eta_min=inf"),
    (lambda o: LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: LambdaLR(o, 0.5), TypeError, "lr_lambda.* must be callable"),
    (lambda o: LambdaLR(o, lambda e: float("nan")), ValueError, "group 0 at epoch 0 would be invalid.*lr=nan"),
    (lambda o: StepLR("not an optimizer", 2), TypeError, "str is not an Optimizer"),
    (lambda o: OneCycleLR(o, 1.0), ValueError, "either total_steps OR"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=0), ValueError, "total_steps=0"),
    (lambda o: OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-1), ValueError, "steps_per_epoch=-1"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: OneCycleLR(o, [1.0], total_steps=10), ValueError, "max_lr must have the same length"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=10, div_factor=0), ValueError, "div_factor=0"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=10, pct_start=0.1), ValueError, "phase 0 .* no steps"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: ReduceLROnPlateau(o, mode="mean"), ValueError, "mode 'mean' is unknown"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="relative"), ValueError, "threshold mode 'relative' is unknown"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, "patience=-1"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
])
def test_bad_settings_are_refused_and_the_optimizer_is_left_as_it_was(make, error, message):
    opt = _sgd()
    before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    with pytest.raises(error, match=message):
        make(opt)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


def test_one_cycle_without_momentum_in_the_optimizer_needs_cycle_momentum_off():
    opt = optim.Adagrad([nn.Parameter(np.zeros(2))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        OneCycleLR(opt, 1.0, total_steps=4)
    OneCycleLR(opt, 1.0, total_steps=4, cycle_momentum=False)


def test_one_cycle_refuses_to_step_past_total_steps_and_changes_nothing():
    opt = _sgd()
    scheduler = OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        scheduler.step()
    last, epoch = scheduler.get_last_lr(), scheduler.last_epoch
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        scheduler.step()
    assert scheduler.get_last_lr() == last and scheduler.last_epoch == epoch


# ----- state dicts ---------------------------------------------------------------------------------
_MAKERS = [
    lambda o: StepLR(o, 3, gamma=0.5),
    lambda o: MultiStepLR(o, [2, 4, 4], gamma=0.5),
    lambda o: ExponentialLR(o, 0.9),
    lambda o: CosineAnnealingLR(o, 5, eta_min=0.01),
    lambda o: LambdaLR(o, lambda e: 0.9 ** e),
    lambda o: OneCycleLR(o, 1.0, total_steps=12, three_phase=True),
]


@pytest.mark.parametrize("make", _MAKERS)
def test_a_saved_scheduler_and_optimizer_resume_the_same_schedule(make):
    opt = _sgd()
    scheduler = make(opt)
    _lrs(scheduler, 4)
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(scheduler.state_dict())
    rest = _lrs(scheduler, 6)
    opt2 = _sgd(lr=0.7)
    opt2.load_state_dict(saved_opt)
    resumed = make(opt2)  # the groups hold initial_lr now; loading the state puts the lrs back
    resumed.load_state_dict(saved)
    opt2.load_state_dict(saved_opt)
    assert _lrs(resumed, 6) == rest


def test_lambda_lr_state_dict_holds_no_functions_but_a_callable_objects_attributes():
    class Factor:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _sgd()
    scheduler = LambdaLR(opt, [lambda e: 1.0, Factor(0.5)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]
    other = LambdaLR(_sgd(), [lambda e: 1.0, Factor(0.9)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.5 and callable(other.lr_lambdas[0])


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(step_size=0), "step_size=0"),
    (lambda s: s.update(gamma="0.1"), "gamma must be a real number"),
    (lambda s: s.update(base_lrs=[0.1]), "base_lrs must be a list of 2"),
    (lambda s: s.update(last_epoch=1.5), "last_epoch must be an integer"),
    (lambda s: s.pop("_last_lr"), r"missing entries \['_last_lr'\]"),
    (lambda s: s.update(T_max=3), r"unknown entries \['T_max'\]"),
])
def test_load_state_dict_refuses_a_bad_state_and_changes_nothing(change, message):
    scheduler = StepLR(_sgd(), 3)
    state = scheduler.state_dict()
    change(state)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=message):
        scheduler.load_state_dict(state)
    assert scheduler.state_dict() == before


# ----- against torch -------------------------------------------------------------------------------
_AGAINST_TORCH = [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)), ("MultiStepLR", dict(milestones=[25, 3])),
    ("ExponentialLR", dict(gamma=0.9)), ("ExponentialLR", dict(gamma=1.05)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)), ("CosineAnnealingLR", dict(T_max=30)),
    ("CosineAnnealingLR", dict(T_max=1)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)), ("LambdaLR", dict(lr_lambda=[lambda e: e % 4, lambda e: 1])),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=30)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=3, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=30, three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=30, three_phase=True, anneal_strategy="linear",
                        base_momentum=[0.8, 0.7], max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=30, cycle_momentum=False)),
]


def _pair(torch, name="SGD", **options):
    options = options or dict(lr=0.1, momentum=0.9)
    ours = [nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return (getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.05}], **options),
            getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.05}], **options))


def _momenta(opt):
    return [g.get("momentum", g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("optimizer", [("SGD", {}), ("Adam", dict(lr=0.01, betas=(0.8, 0.99)))])
@pytest.mark.parametrize("name, settings", _AGAINST_TORCH)
def test_lr_and_momentum_sequences_equal_torchs_over_30_steps(name, settings, optimizer):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with PyTorch's schedulers")
    ours_opt, torch_opt = _pair(torch, optimizer[0], **optimizer[1])
    ours = getattr(lr_scheduler, name)(ours_opt, **settings)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **settings)
    for step in range(31 if name != "OneCycleLR" else 30):
        assert ours.get_last_lr() == theirs.get_last_lr(), step
        assert _momenta(ours_opt) == _momenta(torch_opt), step
        ours_opt.step()
        torch_opt.step()
        ours.step()
        theirs.step()
    state, torch_state = ours.state_dict(), theirs.state_dict()
    assert set(state) == set(torch_state)
    assert {k: v for k, v in state.items() if k != "lr_lambdas"} == \
        {k: v for k, v in torch_state.items() if k != "lr_lambdas"}
    ours_groups = ours_opt.state_dict()["param_groups"]
    torch_groups = torch_opt.state_dict()["param_groups"]
    for group, torch_group in zip(ours_groups, torch_groups, strict=True):
        for key in ("lr", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            assert group.get(key) == torch_group.get(key), key


@pytest.mark.parametrize("name, settings", [(n, s) for n, s in _AGAINST_TORCH if n != "OneCycleLR"])
def test_step_with_an_epoch_uses_the_closed_form_as_torch(name, settings):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with PyTorch's schedulers")
    ours_opt, torch_opt = _pair(torch)
    ours = getattr(lr_scheduler, name)(ours_opt, **settings)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **settings)
    ours_opt.step()
    torch_opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 7, 2, 12]:
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr(), epoch


@pytest.mark.parametrize("settings", [
    dict(), dict(mode="max"), dict(threshold_mode="abs", threshold=0.05), dict(mode="max", threshold_mode="abs"),
    dict(patience=0, factor=0.5, cooldown=2, min_lr=0.02), dict(patience=1, min_lr=[0.01, 0.03], eps=0.0),
])
def test_reduce_on_plateau_matches_torch(settings):
    torch = pytest.importorskip("torch", reason="torch is optional: compares with PyTorch's schedulers")
    ours_opt, torch_opt = _pair(torch)
    ours = ReduceLROnPlateau(ours_opt, **settings)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **settings)
    metrics = np.random.default_rng(0).normal(size=60).cumsum()
    for metric in [*metrics, float("nan"), 1.0]:
        ours.step(float(metric))
        theirs.step(float(metric))
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter) or math.isnan(ours.best)
    assert set(ours.state_dict()) == set(theirs.state_dict())


@pytest.mark.parametrize("name, settings", [*_AGAINST_TORCH[:3], ("ReduceLROnPlateau", dict(patience=1))])
def test_a_torch_scheduler_state_loads_and_continues_like_torch(name, settings):
    torch = pytest.importorskip("torch", reason="torch is optional: loads PyTorch's scheduler state")
    ours_opt, torch_opt = _pair(torch)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **settings)
    plateau = name == "ReduceLROnPlateau"
    for _ in range(5):
        torch_opt.step()
        theirs.step(*([1.0] if plateau else []))
    ours_opt.load_state_dict({"state": {}, "param_groups": copy.deepcopy(torch_opt.state_dict()["param_groups"])})
    ours = getattr(lr_scheduler, name)(ours_opt, **settings)
    ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    ours_opt.load_state_dict({"state": {}, "param_groups": copy.deepcopy(torch_opt.state_dict()["param_groups"])})
    for _ in range(6):
        ours_opt.step()
        torch_opt.step()
        ours.step(*([1.0] if plateau else []))
        theirs.step(*([1.0] if plateau else []))
        assert ours.get_last_lr() == theirs.get_last_lr()
