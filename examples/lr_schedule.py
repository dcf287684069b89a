"""Train the digits CNN with a learning-rate schedule and plot the loss and learning-rate curves.

What it teaches: `optim.lr_scheduler` used as in PyTorch. OneCycleLR (the default) is stepped after every
batch: the lr climbs from max_lr / 25 to max_lr over the first 30% of the steps and anneals to almost zero,
while Adam's beta1 moves the other way; CosineAnnealingLR (`--schedule cosine`) is stepped once per epoch,
from `--lr` down to 0. The figure shows the training loss of every batch above the lr it was taken with.

Run it from the repository root (needs the `examples` extra: scikit-learn for the data, matplotlib):

    python examples/lr_schedule.py                          # 4 epochs, writes runs/lr_schedule/curves.png
    python examples/lr_schedule.py --schedule cosine --epochs 6 --out /tmp/cosine.png
    python examples/lr_schedule.py --quick                  # one tiny epoch
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import optim
from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedule", choices=["onecycle", "cosine"], default="onecycle",
                        help="OneCycleLR stepped per batch, or CosineAnnealingLR per epoch (default onecycle)")
    parser.add_argument("--epochs", type=_common.positive_int, default=4, help="passes over the training set "
                        "(default 4)")
    parser.add_argument("--batch-size", type=_common.positive_int, default=32, help="images per step (default 32)")
    parser.add_argument("--lr", type=_common.positive_float, default=1e-2,
                        help="the peak learning rate (OneCycleLR's max_lr, CosineAnnealingLR's start; default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default 0)")
    parser.add_argument("--out", type=Path, default=Path("runs/lr_schedule/curves.png"),
                        help="the PNG to write (default runs/lr_schedule/curves.png)")
    parser.add_argument("--quick", action="store_true", help="one tiny epoch on a few images (for tests)")
    return parser


def make_scheduler(name: str, optimizer: optim.Optimizer, lr: float, epochs: int, steps_per_epoch: int
                   ) -> LRScheduler:
    """OneCycleLR over every batch of every epoch, or CosineAnnealingLR over the epochs."""
    if name == "onecycle":
        return OneCycleLR(optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    return CosineAnnealingLR(optimizer, T_max=epochs)


def train(args: argparse.Namespace, data: tuple) -> dict:
    """The digits CNN trained with Adam under the schedule; the loss and lr of every step, the test accuracy."""
    import train_digits  # the model of examples/train_digits.py

    train_images, train_labels, test_images, test_labels = data
    tc.manual_seed(args.seed)
    model = train_digits.build_model()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loader = tc.data.DataLoader(tc.data.TensorDataset(train_images, train_labels), batch_size=args.batch_size,
                                shuffle=True, seed=args.seed)
    scheduler = make_scheduler(args.schedule, optimizer, args.lr, args.epochs, len(loader))
    losses, lrs = [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        for images, labels in loader:
            lrs.append(optimizer.param_groups[0]["lr"])  # the lr this step uses
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if args.schedule == "onecycle":
                scheduler.step()
        if args.schedule == "cosine":
            scheduler.step()
        accuracy = _common.evaluate(model, test_images, test_labels)
        _common.say(f"epoch {epoch}/{args.epochs}  last loss {losses[-1]:.4f}  lr now {scheduler.get_last_lr()[0]:.2e}"
                    f"  test accuracy {100 * accuracy:.2f}%")
    return dict(losses=losses, lrs=lrs, accuracy=accuracy, steps_per_epoch=len(loader))


def plot(losses: list[float], lrs: list[float], schedule: str, path: Path) -> Path:
    """Loss per step above lr per step, saved as a PNG at `path`."""
    matplotlib = _common.require("matplotlib", "lr_schedule.py (to draw the curves)")
    matplotlib.use("Agg")  # files only: no window, works without a display
    import matplotlib.pyplot as plt

    figure, (loss_axes, lr_axes) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    loss_axes.plot(losses, linewidth=0.8)
    loss_axes.set_ylabel("training loss")
    loss_axes.set_yscale("log")
    loss_axes.set_title(f"digits CNN, Adam with {'OneCycleLR' if schedule == 'onecycle' else 'CosineAnnealingLR'}")
    lr_axes.plot(lrs, color="tab:orange")
    lr_axes.set_ylabel("learning rate")
    lr_axes.set_xlabel("step (batch)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> dict:
    """Train, plot, and return the curves and the path written (for tests)."""
    args = make_parser().parse_args(argv)
    _common.require("matplotlib", "lr_schedule.py (to draw the curves)")  # before training, not after
    if args.quick:
        args.epochs = 1
    data = _common.digit_arrays()
    if args.quick:
        data = (*_common.random_subset(data[0], data[1], 256, args.seed), *data[2:])
    result = train(args, data)
    result["path"] = plot(result["losses"], result["lrs"], args.schedule, args.out)
    _common.announce(result["path"], "the loss and learning-rate curves")
    return result


if __name__ == "__main__":
    main()
