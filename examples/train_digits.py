"""Train a small CNN on the bundled 8x8 handwritten digits, PyTorch-style, and draw one training step.

What it teaches: the whole PyTorch workflow on tinygrad_cnn, a model of Conv2d, BatchNorm2d, ReLU,
MaxPool2d and Linear layers, trained with Adam and cross-entropy, reaching about 98-99% test accuracy in
seconds on two cores; saving the model with `tc.save`; and the computation graph of one training step
drawn with `tc.draw_graph` (parameters named as in the model, one box per layer).

Run it from the repository root (needs the `examples` extra: scikit-learn for the data, tqdm):

    python examples/train_digits.py                 # 10 epochs, writes runs/digits/
    python examples/train_digits.py --epochs 3 --lr 0.01 --seed 1 --out /tmp/digits
    python examples/train_digits.py --quick         # one tiny epoch

It writes `model.npz` (load it with `model.load_state_dict(tc.load(path))`) and `train_step.svg` (or
`train_step.dot` when Graphviz's `dot` program is missing) under `--out`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import _common

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim


def build_model() -> nn.Sequential:
    """Two conv blocks and a linear classifier: (N, 1, 8, 8) images -> (N, 10) logits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def save_graph(loss: tc.Tensor, model: nn.Module, out: Path) -> Path:
    """Draw the graph behind `loss` to out/train_step.svg, or write its DOT source if `dot` is missing."""
    graph = tc.draw_graph(loss, params=model)  # the model names its parameters and buffers
    return _common.write_graph(graph, out / "train_step", "the graph of one training step")


def load_data(quick: bool, seed: int) -> tuple:
    """Digits train/test arrays (images (N, 1, 8, 8), labels (N,)); `quick` keeps 256 training images."""
    train_images, train_labels, test_images, test_labels = _common.digit_arrays()
    if quick:
        train_images, train_labels = _common.random_subset(train_images, train_labels, 256, seed)
    return train_images, train_labels, test_images, test_labels


def train(data: tuple, epochs: int, batch_size: int, lr: float, seed: int,
          first_step: Callable[[tc.Tensor, nn.Module], None] | None = None) -> tuple[nn.Module, list[dict]]:
    """A fresh `build_model()` trained with Adam on `data` (from `load_data`); returns it and its history.

    `first_step(loss, model)` sees the first training step's loss before its backward.
    """
    train_images, train_labels, test_images, test_labels = data
    tc.manual_seed(seed)
    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loader = tc.data.DataLoader(tc.data.TensorDataset(train_images, train_labels), batch_size=batch_size,
                                shuffle=True, seed=seed)
    hook = None if first_step is None else (lambda loss: first_step(loss, model))
    history = _common.fit(model, F.cross_entropy, optimizer, loader, test_images, test_labels, epochs,
                          first_step=hook)
    return model, history


def main(argv: list[str] | None = None) -> dict:
    """Train, report, save; returns the history, speed and the paths written (for tests)."""
    started = time.perf_counter()
    args = _common.make_parser(__doc__, epochs=10, batch_size=32, lr=3e-3, out="runs/digits").parse_args(argv)
    if args.quick:
        args.epochs = 1
    data = load_data(args.quick, args.seed)
    print(f"digits: {len(data[0])} training and {len(data[2])} test images of 8x8")
    print(build_model())
    args.out.mkdir(parents=True, exist_ok=True)
    paths = {}

    def draw_first_step(loss: tc.Tensor, model: nn.Module) -> None:
        paths["graph"] = save_graph(loss, model, args.out)

    model, history = train(data, args.epochs, args.batch_size, args.lr, args.seed, first_step=draw_first_step)
    paths["model"] = args.out / "model.npz"
    tc.save(model.state_dict(), paths["model"])
    _common.announce(paths["model"], "the trained model")
    speed = _common.report_speed(history, time.perf_counter() - started)
    print(f"final test accuracy {100 * history[-1]['accuracy']:.2f}%")
    return dict(history=history, speed=speed, paths=paths, model=model)


if __name__ == "__main__":
    main()
