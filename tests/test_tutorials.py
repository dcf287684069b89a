"""PyTorch's beginner tutorials, written out from their text, run with `import tinygrad_cnn as torch`.

Each tutorial is one function of the module it is handed (`tinygrad_cnn` or `torch`): the code is the tutorial's,
unchanged but for where its random numbers come from (seeded NumPy arrays, so both frameworks see the same ones).
Each returns the numbers the tutorial prints; with torch importable, ours must equal PyTorch's.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

import tinygrad_cnn

RNG_SEED = 0


def _numbers(value):
    """What a tutorial printed, as NumPy arrays or Python values, comparable across frameworks."""
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    return value


# ----- Tensors ("Learn the Basics": Tensors) -------------------------------------------------------------------
def tensors_tutorial(torch):
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)  # retains the properties of x_data
    shape = (2, 3,)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    tensor = torch.from_numpy(np.random.default_rng(RNG_SEED).random((3, 4), dtype=np.float32))
    attributes = (tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), str(tensor.device))
    tensor = torch.ones(4, 4)
    first_row, first_column, last_column = tensor[0], tensor[:, 0], tensor[..., -1]
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.zeros_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.zeros_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    agg = tensor.sum()
    agg_item = agg.item()
    tensor.add_(5)
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    shared_after_add = n.copy()  # the NumPy array changes with the tensor
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    return [x_data, x_np, x_ones, ones_tensor, zeros_tensor, attributes, first_row, first_column, last_column, t1,
            y1, y2, y3, z1, z2, z3, agg_item, type(agg_item).__name__, tensor, shared_after_add, t]


# ----- Automatic differentiation ("Learn the Basics": Autograd) ------------------------------------------------
def autograd_tutorial(torch):
    rng = np.random.default_rng(RNG_SEED)
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    has_grad_fns = z.grad_fn is not None and loss.grad_fn is not None
    loss.backward()
    grads = [w.grad, b.grad]
    z = torch.matmul(x, w) + b
    tracked = z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    untracked = z.requires_grad
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    detached = z_det.requires_grad
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first_call = inp.grad.clone()
    out.backward(torch.ones_like(out), retain_graph=True)
    second_call = inp.grad.clone()
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    call_after_zeroing = inp.grad
    return [loss, has_grad_fns, grads, tracked, untracked, detached, first_call, second_call, call_after_zeroing]


# ----- Neural Networks ("Deep Learning with PyTorch: A 60 Minute Blitz"): LeNet ----------------------------------
def _lenet_class(torch):
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()  # noqa: UP008 (the tutorial's spelling)
            # 1 input image channel, 6 output channels, 5x5 square convolution kernel
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            # an affine operation: y = Wx + b
            self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output

    return Net


def _same_weights(torch, net, seed=RNG_SEED):
    """Every parameter drawn from one seeded NumPy generator, so both frameworks start from the same net."""
    rng = np.random.default_rng(seed)
    # Scaled by 1 / sqrt(fan_in), as the default initialisation, so the outputs stay near 1.
    state = {name: torch.from_numpy((rng.standard_normal(tuple(p.shape)) / np.sqrt(np.prod(p.shape[1:]) if
                                     len(p.shape) > 1 else 10)).astype(np.float32))
             for name, p in net.named_parameters()}
    net.load_state_dict(state)


def lenet_tutorial(torch):
    nn, optim = torch.nn, torch.optim
    rng = np.random.default_rng(RNG_SEED + 1)
    net = _lenet_class(torch)()
    _same_weights(torch, net)
    params = list(net.parameters())
    sizes = [len(params), tuple(params[0].size())]
    input = torch.from_numpy(rng.standard_normal((1, 1, 32, 32)).astype(np.float32))
    out = net(input)
    net.zero_grad()
    out.backward(torch.from_numpy(rng.standard_normal((1, 10)).astype(np.float32)))
    output = net(input)
    target = torch.from_numpy(rng.standard_normal(10).astype(np.float32))  # a dummy target, for example
    target = target.view(1, -1)  # make it the same shape as output
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    edges = len(loss.grad_fn.next_functions)  # the tutorial follows them back towards the parameters
    net.zero_grad()  # zeroes the gradient buffers of all parameters
    before = net.conv1.bias.grad
    loss.backward()
    after = net.conv1.bias.grad
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    manual = net.conv1.bias
    # create your optimizer
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    # in your training loop:
    optimizer.zero_grad()  # zero the gradient buffers
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()  # Does the update
    return [sizes, out, before, after, manual, loss, net(input), edges]


# ----- A training loop, saving and loading ("Optimizing Model Parameters", "Save and Load the Model") ------------
def training_loop_tutorial(torch, tmp_path):
    nn = torch.nn
    rng = np.random.default_rng(RNG_SEED + 2)
    images = rng.random((64, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, size=64)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    train_dataloader = torch.utils.data.DataLoader(dataset, batch_size=16)
    model = _lenet_class(torch)()
    _same_weights(torch, model)
    learning_rate, epochs = 1e-3, 2
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        losses = []
        for batch, (X, y) in enumerate(dataloader):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append((loss.item(), (batch + 1) * len(X), size))
        return losses

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size, num_batches = len(dataloader.dataset), len(dataloader)
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        return test_loss / num_batches, correct / size

    history = []
    for _ in range(epochs):
        history.append(train_loop(train_dataloader, model, loss_fn, optimizer))
        history.append(test_loop(train_dataloader, model, loss_fn))
    path = os.path.join(tmp_path, f"model_weights_{torch.__name__}.pth")
    torch.save(model.state_dict(), path)
    reloaded = _lenet_class(torch)()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
    reloaded.eval()
    X = torch.from_numpy(images[:4])
    return [history, model(X), reloaded(X)]


TUTORIALS = {"tensors": tensors_tutorial, "autograd": autograd_tutorial, "lenet": lenet_tutorial}


def _assert_same(ours, theirs, where="output"):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), where
        assert ours.shape == theirs.shape, (where, ours.shape, theirs.shape)
        assert ours.dtype == theirs.dtype, (where, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5, err_msg=where)  # float32 sums
    elif isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=1e-4, abs=1e-5), where
    else:
        assert ours == theirs, where


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_tutorial_runs_with_tinygrad_cnn_as_torch(name):
    assert _numbers(TUTORIALS[name](tinygrad_cnn))


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_tutorial_gives_pytorchs_numbers(name):
    torch = pytest.importorskip("torch")
    _assert_same(_numbers(TUTORIALS[name](tinygrad_cnn)), _numbers(TUTORIALS[name](torch)))


def test_training_loop_and_save_load_give_pytorchs_numbers(tmp_path):
    ours = _numbers(training_loop_tutorial(tinygrad_cnn, tmp_path))
    np.testing.assert_array_equal(ours[1], ours[2])  # the reloaded model predicts as the trained one
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed: ours ran; the comparison with PyTorch's numbers needs it")
    import torch

    _assert_same(ours, _numbers(training_loop_tutorial(torch, tmp_path)))


def test_tensors_tutorial_values_without_torch():
    out = _numbers(tensors_tutorial(tinygrad_cnn))
    np.testing.assert_array_equal(out[0], [[1, 2], [3, 4]])
    assert out[5] == [[3, 4], "float32", "cpu"]
    np.testing.assert_array_equal(out[18], np.where(np.arange(4) == 1, 5.0, 6.0)[None].repeat(4, 0))
    np.testing.assert_array_equal(out[19], np.full(5, 2.0))
    np.testing.assert_array_equal(out[20], np.full(5, 2.0))
