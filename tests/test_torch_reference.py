"""Every CNN op against PyTorch, forward and backward, in float64 (optional: skipped without torch).

Each case calls our `F` function and torch's on the same arrays, backpropagates the same random
gradient through both and compares the outputs and the gradient of every float input.
"""

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor

torch = pytest.importorskip("torch", reason="torch is optional: this module compares with it when it is installed")
TF = torch.nn.functional

RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape)


def ties(*shape):
    """Small integers: many tied maxima, to pin the tie rule."""
    return RNG.integers(-2, 3, size=shape).astype(np.float64)


def labels(classes, *shape):
    return RNG.integers(0, classes, size=shape)


def probabilities(classes, *shape, axis=1):
    return np.moveaxis(RNG.dirichlet(np.ones(classes), size=shape), -1, axis)


def _case(name, ours, theirs, *args, **kwargs):
    return pytest.param(ours, theirs, args, kwargs, id=name)


CASES = [
    # convolution
    _case("conv2d", F.conv2d, TF.conv2d, normal(2, 3, 7, 6), normal(4, 3, 3, 3), normal(4)),
    _case("conv2d-stride-padding", F.conv2d, TF.conv2d, normal(2, 2, 8, 7), normal(3, 2, 3, 2), None,
          stride=2, padding=1),
    _case("conv2d-dilation-groups", F.conv2d, TF.conv2d, normal(1, 4, 9, 9), normal(6, 2, 3, 3), normal(6),
          stride=(1, 2), padding=(2, 1), dilation=2, groups=2),
    _case("conv2d-same", F.conv2d, TF.conv2d, normal(2, 3, 6, 5), normal(2, 3, 4, 3), normal(2), padding="same"),
    _case("conv2d-valid", F.conv2d, TF.conv2d, normal(1, 1, 5, 5), normal(1, 1, 3, 3), None, padding="valid"),
    _case("conv1d", F.conv1d, TF.conv1d, normal(2, 3, 10), normal(4, 3, 3), normal(4), stride=2, padding=1),
    _case("conv1d-dilation-groups", F.conv1d, TF.conv1d, normal(2, 4, 12), normal(4, 2, 3), None, dilation=3,
          groups=2),
    # pooling (tied inputs: PyTorch sends the gradient to the first maximum)
    _case("max_pool2d", F.max_pool2d, TF.max_pool2d, ties(2, 3, 6, 6), 2),
    _case("max_pool2d-overlap-padding", F.max_pool2d, TF.max_pool2d, ties(2, 2, 7, 6), 3, 2, 1),
    _case("max_pool2d-ceil", F.max_pool2d, TF.max_pool2d, ties(1, 2, 7, 7), 2, 2, 1, ceil_mode=True),
    _case("max_pool2d-ceil-no-padding", F.max_pool2d, TF.max_pool2d, ties(2, 1, 5, 8), 3, 2, ceil_mode=True),
    _case("max_pool2d-dilation", F.max_pool2d, TF.max_pool2d, ties(1, 2, 9, 8), (2, 3), (1, 2), (1, 1), 2),
    _case("max_pool2d-unbatched", F.max_pool2d, TF.max_pool2d, normal(3, 6, 5), 2, 1),
    _case("avg_pool2d", F.avg_pool2d, TF.avg_pool2d, normal(2, 3, 6, 6), 2),
    _case("avg_pool2d-padding", F.avg_pool2d, TF.avg_pool2d, normal(2, 2, 7, 5), 3, 2, 1),
    _case("avg_pool2d-rect", F.avg_pool2d, TF.avg_pool2d, normal(1, 2, 6, 9), (2, 3), (1, 3), (1, 0)),
    # activations
    _case("relu", F.relu, TF.relu, normal(3, 4)),
    _case("leaky_relu", F.leaky_relu, TF.leaky_relu, normal(3, 4), 0.2),
    _case("sigmoid", F.sigmoid, torch.sigmoid, normal(3, 4) * 5),
    _case("sigmoid-extreme", F.sigmoid, torch.sigmoid, np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])),
    _case("tanh", F.tanh, torch.tanh, normal(3, 4)),
    _case("softmax", F.softmax, TF.softmax, normal(3, 4, 2), dim=1),
    _case("softmax-extreme", F.softmax, TF.softmax, np.array([[1000.0, -1000.0, 0.0], [5.0, 5.0, 5.0]]), dim=-1),
    _case("log_softmax", F.log_softmax, TF.log_softmax, normal(2, 3, 4), dim=-1),
    _case("log_softmax-extreme", F.log_softmax, TF.log_softmax, np.array([[1e4, -1e4, 0.0]]), dim=1),
]

for reduction in ("mean", "sum", "none"):
    CASES += [
        _case(f"cross_entropy-{reduction}", F.cross_entropy, TF.cross_entropy, normal(5, 4), labels(4, 5),
              reduction=reduction),
        _case(f"cross_entropy-spatial-{reduction}", F.cross_entropy, TF.cross_entropy, normal(2, 3, 2, 3),
              labels(3, 2, 2, 3), reduction=reduction),
        _case(f"cross_entropy-options-{reduction}", F.cross_entropy, TF.cross_entropy, normal(6, 4),
              np.array([0, 3, -100, 2, 1, 3]), RNG.uniform(0.5, 2, 4), reduction=reduction, label_smoothing=0.15),
        _case(f"cross_entropy-probabilities-{reduction}", F.cross_entropy, TF.cross_entropy, normal(3, 4, 2),
              probabilities(4, 3, 2), RNG.uniform(0.5, 2, 4), reduction=reduction, label_smoothing=0.1),
        _case(f"nll_loss-{reduction}", F.nll_loss, TF.nll_loss, np.log(probabilities(4, 5)), labels(4, 5),
              RNG.uniform(0.5, 2, 4), reduction=reduction),
        _case(f"binary_cross_entropy-{reduction}", F.binary_cross_entropy, TF.binary_cross_entropy,
              RNG.uniform(0.02, 0.98, (3, 4)), RNG.uniform(0, 1, (3, 4)), RNG.uniform(0.5, 2, 4), reduction=reduction),
        _case(f"binary_cross_entropy_with_logits-{reduction}", F.binary_cross_entropy_with_logits,
              TF.binary_cross_entropy_with_logits, normal(3, 4) * 10, RNG.uniform(0, 1, (3, 4)),
              RNG.uniform(0.5, 2, 4), reduction=reduction, pos_weight=RNG.uniform(0.5, 3, 4)),
        _case(f"mse_loss-{reduction}", F.mse_loss, TF.mse_loss, normal(3, 4), normal(3, 4), reduction=reduction),
    ]

CASES += [
    _case("cross_entropy-unbatched", F.cross_entropy, TF.cross_entropy, normal(5), np.array(3)),
    _case("binary_cross_entropy-at-0-and-1", F.binary_cross_entropy, TF.binary_cross_entropy,
          np.array([0.0, 1.0, 0.3]), np.array([1.0, 0.0, 1.0])),
]


def _wrap(value, module):
    """Our Tensor or a torch tensor; float arrays require grad (a float target too: soft targets get one)."""
    if not isinstance(value, np.ndarray):
        return value
    if module == "ours":
        return Tensor(value, requires_grad=value.dtype.kind == "f" and value.ndim > 0 and value.size > 0)
    tensor = torch.tensor(value)
    return tensor.requires_grad_(True) if value.dtype.kind == "f" and value.ndim > 0 else tensor


def _grad_wanted(name, position):
    # Weights are constants in both; BCE's target gradient at p in {0, 1} is infinite in torch, finite here.
    return position < 2 and not (name.startswith("binary_cross_entropy-at") and position == 1)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels, which we test
@pytest.mark.parametrize(("ours", "theirs", "args", "kwargs"), CASES)
def test_forward_and_backward_match_pytorch(request, ours, theirs, args, kwargs):
    name = request.node.callspec.id
    kwargs_torch = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    our_args = [_wrap(a, "ours") for a in args]
    torch_args = [_wrap(a, "torch") for a in args]
    for i, (a, b) in enumerate(zip(our_args, torch_args)):
        if isinstance(a, Tensor) and not _grad_wanted(name, i) and a.requires_grad:
            a.requires_grad, _ = False, b.requires_grad_(False)
    out, expected = ours(*our_args, **kwargs), theirs(*torch_args, **kwargs_torch)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_output = RNG.standard_normal(out.shape)
    out.backward(grad_output)
    expected.backward(torch.tensor(grad_output))
    for i, (a, b) in enumerate(zip(our_args, torch_args)):
        if isinstance(a, Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.detach().numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-11,
                                       err_msg=f"gradient of argument {i}")


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 4, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch_including_running_stats(shape, training):
    channels = shape[1]
    x, grad_output = normal(*shape) * 2 + 1, normal(*shape)
    weight, bias = RNG.uniform(0.5, 2, channels), normal(channels)
    running = normal(channels), RNG.uniform(0.5, 2, channels)
    ours = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    our_stats = [Tensor(a.copy()) for a in running]
    torch_stats = [torch.tensor(a.copy()) for a in running]
    out = F.batch_norm(ours[0], *our_stats, ours[1], ours[2], training=training, momentum=0.3, eps=1e-3)
    expected = TF.batch_norm(theirs[0], *torch_stats, theirs[1], theirs[2], training=training, momentum=0.3,
                             eps=1e-3)
    out.backward(grad_output)
    expected.backward(torch.tensor(grad_output))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours + our_stats, theirs + torch_stats):
        np.testing.assert_allclose(a.detach().numpy() if a.grad is None else a.grad.detach().numpy(),
                                   b.numpy() if b.grad is None else b.grad.numpy(), rtol=1e-9, atol=1e-11)
