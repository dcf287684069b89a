"""The classic Keras MNIST CNN, written PyTorch-style on tinygrad_cnn and trained with SGD.

What it teaches: a Keras user's familiar model, Conv(32)-Conv(64)-Conv(64)-MaxPool-Flatten-Dense-Dense,
in PyTorch's words: `nn.Conv2d(..., padding='same')` keeps 28x28 as Keras's `padding='same'` does,
`nn.Flatten` + `nn.Linear` are Keras's Flatten + Dense, the softmax lives inside `F.cross_entropy`, and
`optim.SGD` with momentum replaces `model.compile(optimizer='sgd')`. This is the largest model of the
examples (about 1.7 million weights, most in the first Dense layer), so an epoch takes a while.

It trains on the bundled 8x8 digits upscaled to 28x28 (MNIST's size) by bilinear interpolation, or on
MNIST itself if you have its files (IDX, gzipped or not, or an .npz; nothing is downloaded).

    python examples/keras_style_cnn.py                       # 2 epochs on the upscaled digits, about 95%
    python examples/keras_style_cnn.py --mnist ~/data/mnist --epochs 1 --train-size 10000
    python examples/keras_style_cnn.py --quick               # one tiny epoch
"""

from __future__ import annotations

import time
from pathlib import Path

import _common
import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim

SIZE = 28


def build_model() -> nn.Sequential:
    """(N, 1, 28, 28) images -> (N, 10) logits; the comments give Keras's layer for each line."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding="same"), nn.ReLU(),   # Conv2D(32, 3, padding='same', activation='relu')
        nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(),  # Conv2D(64, 3, padding='same', activation='relu')
        nn.Conv2d(64, 64, 3, padding="same"), nn.ReLU(),  # Conv2D(64, 3, padding='same', activation='relu')
        nn.MaxPool2d(2),                                   # MaxPooling2D(2)            -> 64 x 14 x 14
        nn.Flatten(),                                      # Flatten()                  -> 12544
        nn.Linear(64 * 14 * 14, 128), nn.ReLU(),           # Dense(128, activation='relu')
        nn.Linear(128, 10),                                # Dense(10) (softmax: in the loss)
    )


def load_data(mnist: Path | None, quick: bool, seed: int, train_size: int | None) -> tuple[np.ndarray, ...]:
    """Train and test images (N, 1, 28, 28) float32, standardised, and int64 labels, from MNIST or the digits."""
    if mnist is None:
        train_images, train_labels, test_images, test_labels = _common.digit_arrays()
        train_images, test_images = _common.upscale(train_images, SIZE), _common.upscale(test_images, SIZE)
    else:
        train_images, train_labels, test_images, test_labels = tc.datasets.load_mnist(mnist)
    # The quick run is one step on 32 images, tested on 64: this is the costliest model of the examples.
    limit = 32 if quick else train_size
    if limit is not None:
        train_images, train_labels = _common.random_subset(train_images, train_labels, limit, seed)
    if quick:
        test_images, test_labels = test_images[:64], test_labels[:64]
    # Zero mean and unit variance (the training set's statistics, used for both): plain SGD then takes
    # its first steps in the right direction and reaches in one epoch what [0, 1] pixels need two for.
    mean, std = train_images.mean(), train_images.std()
    train_images, test_images = (train_images - mean) / std, (test_images - mean) / std
    return train_images, train_labels, test_images, test_labels


def main(argv: list[str] | None = None) -> dict:
    """Load, train with SGD, save; returns the history and speed (for tests)."""
    started = time.perf_counter()
    parser = _common.make_parser(__doc__, epochs=2, batch_size=32, lr=0.01, out="runs/keras_style")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    parser.add_argument("--mnist", type=Path, default=None,
                        help="folder or file with MNIST (IDX files or .npz) to train on instead of the digits")
    parser.add_argument("--train-size", type=_common.positive_int, default=None,
                        help="train on this many random training images (default: all)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
    train_images, train_labels, test_images, test_labels = load_data(args.mnist, args.quick, args.seed,
                                                                     args.train_size)
    source = "MNIST" if args.mnist else "digits upscaled from 8x8"
    print(f"{source}: {len(train_images)} training and {len(test_images)} test images of {SIZE}x{SIZE}")

    tc.manual_seed(args.seed)
    model = build_model()
    print(model)
    print(f"{sum(p.detach().numpy().size for p in model.parameters()):,} parameters")
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loader = tc.data.DataLoader(tc.data.TensorDataset(train_images, train_labels), batch_size=args.batch_size,
                                shuffle=True, seed=args.seed)
    history = _common.fit(model, F.cross_entropy, optimizer, loader, test_images, test_labels, args.epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "model.npz"
    tc.save(model.state_dict(), path)
    _common.announce(path, "the trained model")
    speed = _common.report_speed(history, time.perf_counter() - started)
    return dict(history=history, speed=speed, paths=dict(model=path))


if __name__ == "__main__":
    main()
