"""What every example shares: its flags, optional imports, the training loop, and digit helpers.

The examples import this as `_common` (Python puts a script's own folder on `sys.path`), so each
example is only its model and what it shows; the loop below is the PyTorch loop a reader knows:
forward, loss, `zero_grad`, `backward`, `step`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

try:
    import tinygrad_cnn as tc
except ImportError:
    # A source checkout that was not pip-installed: use the package beside this folder. The examples
    # import _common before tinygrad_cnn, so this also serves their own imports.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tinygrad_cnn as tc

import numpy as np

EXTRA_HINT = "pip install 'tinygrad_cnn[examples]'  (scikit-learn, tqdm, matplotlib)"
PIP_NAMES = {"sklearn": "scikit-learn"}  # where the name to install differs from the name to import


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional package, or stop with a message that says what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(f"error: {purpose} needs the optional package '{PIP_NAMES.get(module, module)}', "
                         "which is not installed.\n"
                         f"       Install the examples' extras with: {EXTRA_HINT}") from None


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1, with a message naming the bad value."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0, with a message naming the bad value."""
    value = float(text)
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def make_parser(doc: str | None, *, epochs: int, batch_size: int, lr: float, out: str) -> argparse.ArgumentParser:
    """The flags every example takes, with that example's defaults; the docstring becomes --help's text."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=f"passes over the training set "
                        f"(default {epochs})")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help=f"images per training step (default {batch_size})")
    parser.add_argument("--lr", type=positive_float, default=lr, help=f"learning rate (default {lr})")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation, shuffling and data (default 0)")
    parser.add_argument("--out", type=Path, default=Path(out), help=f"folder for what the run writes (default {out})")
    parser.add_argument("--quick", action="store_true", help="one tiny epoch on a few images (for tests)")
    return parser


def progress(iterable: Iterable, total: int, desc: str) -> Any:
    """A tqdm bar over `iterable` when tqdm is installed; otherwise the iterable itself, said once."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if not getattr(progress, "warned", False):
            print(f"note: tqdm is not installed, so no progress bar ({EXTRA_HINT})")
            progress.warned = True
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


def argmax_predictions(outputs: tc.Tensor) -> np.ndarray:
    """Class predictions from logits (N, classes) -> (N,)."""
    return outputs.detach().numpy().argmax(axis=1)


def evaluate(model: tc.nn.Module, images: np.ndarray, labels: np.ndarray,
             predict: Callable[[tc.Tensor], np.ndarray] = argmax_predictions, batch_size: int = 512) -> float:
    """Fraction of `images` (N, ...) the model in eval mode labels as `labels` (N,)."""
    model.eval()
    correct = 0
    with tc.no_grad():
        for start in range(0, len(images), batch_size):
            outputs = model(tc.tensor(images[start:start + batch_size]))
            correct += int((predict(outputs) == labels[start:start + batch_size]).sum())
    return correct / len(images)


def fit(model: tc.nn.Module, loss_fn: Callable, optimizer: Any, train_loader: Any,
        test_images: np.ndarray, test_labels: np.ndarray, epochs: int,
        predict: Callable[[tc.Tensor], np.ndarray] = argmax_predictions,
        first_step: Callable[[tc.Tensor], None] | None = None) -> list[dict]:
    """Train for `epochs`, printing each epoch's mean loss and test accuracy; returns one dict per epoch.

    `first_step(loss)` is called once with the first step's loss, before its backward frees the graph
    (to draw the graph of a training step). Each dict holds epoch, loss, accuracy, images and the
    seconds spent training (`train_seconds`) and evaluating (`eval_seconds`).
    """
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        started = time.perf_counter()
        total_loss, images_seen = 0.0, 0
        bar = progress(train_loader, total=len(train_loader), desc=f"epoch {epoch}/{epochs}")
        for step, (images, labels) in enumerate(bar):
            loss = loss_fn(model(images), labels)
            if first_step is not None and epoch == 1 and step == 0:
                hook_started = time.perf_counter()
                first_step(loss)
                started += time.perf_counter() - hook_started  # drawing a graph is not training time
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # The mean loss per image, so a smaller last batch weighs as much as its images.
            total_loss += loss.item() * len(labels)
            images_seen += len(labels)
            if hasattr(bar, "set_postfix") and step % 10 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        trained = time.perf_counter()
        accuracy = evaluate(model, test_images, test_labels, predict)
        record = dict(epoch=epoch, loss=total_loss / images_seen, accuracy=accuracy, images=images_seen,
                      train_seconds=trained - started, eval_seconds=time.perf_counter() - trained)
        history.append(record)
        say(f"epoch {epoch:2d}/{epochs}  loss {record['loss']:.4f}  test accuracy {100 * accuracy:6.2f}%  "
            f"({record['train_seconds']:.1f} s)")
    return history


def report_speed(history: list[dict], wall_seconds: float) -> dict:
    """Print and return the run's wall time and training throughput (images per second of training)."""
    images = sum(record["images"] for record in history)
    train_seconds = sum(record["train_seconds"] for record in history)
    speed = dict(wall_seconds=wall_seconds, train_seconds=train_seconds, images_per_second=images / train_seconds)
    print(f"wall time {wall_seconds:.1f} s; training {train_seconds:.1f} s for {images} images "
          f"({speed['images_per_second']:.0f} images/s)")
    return speed


def upscale(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (..., H, W) images to (..., size, size), as torch's interpolate(align_corners=False)."""

    def weights(n_in: int) -> np.ndarray:
        # Row i of the (size, n_in) matrix mixes the two input pixels nearest output pixel i's centre.
        position = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, n_in - 1)
        matrix = np.zeros((size, n_in), dtype=images.dtype)
        # Two statements, not one: low == high at the clipped border, and each must add its share.
        matrix[np.arange(size), low] += 1 - (position - low)
        matrix[np.arange(size), high] += position - low
        return matrix

    rows, cols = weights(images.shape[-2]), weights(images.shape[-1])
    return rows @ images @ cols.T


def digit_arrays() -> tuple[np.ndarray, ...]:
    """The bundled digits: train images float32 (N, 1, 8, 8) in [0, 1], int64 labels (N,), then test's."""
    require("sklearn", "the digits data set (tc.datasets.load_digits)")
    return tuple(tc.datasets.load_digits())  # x_train, y_train, x_test, y_test


def random_subset(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` random (image, label) pairs, or all of them when there are no more; the same for one seed."""
    if count >= len(images):
        return images, labels
    keep = np.random.default_rng(seed).permutation(len(images))[:count]
    return images[keep], labels[keep]


def say(message: str) -> None:
    """Print a message, above the progress bar when one is showing (so neither garbles the other)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(message, flush=True)
    else:
        tqdm.write(message)


def write_graph(graph: Any, stem: Path, what: str) -> Path:
    """Render a `tc.draw_graph` graph to `stem`.svg; where Graphviz's `dot` is missing, write `stem`.dot and say
    how to install it (the message of tinygrad_cnn's GraphvizNotInstalled)."""
    import graphviz  # a dependency of tinygrad_cnn, imported here as only graph-drawing examples need it

    try:
        path = Path(graph.render(stem, format="svg", cleanup=True))
    except graphviz.ExecutableNotFound as error:
        path = Path(graph.save(stem.parent / f"{stem.name}.dot"))
        say(f"note: {what} is saved as DOT source, not SVG: {error}")
    announce(path, what)
    return path


def announce(path: Path, what: str) -> None:
    """Say where a run wrote something."""
    say(f"wrote {what}: {path}")


if __name__ == "__main__":
    sys.exit("this is a helper module for the examples; run e.g. examples/train_digits.py")
