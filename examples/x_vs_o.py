"""Tell X from O in noisy 9x9 images, then look at the 3x3 filters the network learned.

What it teaches: binary classification with a sigmoid output and binary cross-entropy, and what a
convolution layer learns. The images are synthetic: an X (two diagonals) or an O (a ring), 5 or 7
pixels wide, shifted anywhere in the 9x9 frame, plus Gaussian noise. Because the glyph can be anywhere,
the network must learn *local* detectors, and the learned 3x3 filters printed at the end are small
pictures: some become diagonal strokes (the parts of an X), others the flat strokes of an O.

Run it from the repository root (no optional package needed; tqdm draws a progress bar if installed):

    python examples/x_vs_o.py                  # 10 epochs on 1000 images, a few seconds
    python examples/x_vs_o.py --seed 3         # other images, other filters
    python examples/x_vs_o.py --quick          # one tiny epoch
"""

from __future__ import annotations

import _common
import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim

FRAME = 9
# Line detectors a 3x3 filter may resemble, named as they look; compared after removing each one's mean.
TEMPLATES = {
    "diagonal \\": np.eye(3),
    "diagonal /": np.fliplr(np.eye(3)),
    "horizontal -": np.outer([0, 1, 0], [1, 1, 1]),
    "vertical |": np.outer([1, 1, 1], [0, 1, 0]),
}
# Text shades for a weight relative to the filter's largest |weight|: what the filter looks for is '#'.
SHADES = ((0.5, "##"), (0.15, "++"), (-0.15, " ."), (-0.5, "--"), (-np.inf, "=="))


def glyphs(size: int) -> tuple[np.ndarray, np.ndarray]:
    """An X (both diagonals) and an O (a one-pixel ring), each (size, size) of 0s and 1s."""
    index = np.arange(size)
    x = np.zeros((size, size))
    x[index, index] = x[index, size - 1 - index] = 1
    centre = (size - 1) / 2
    rows, cols = np.mgrid[:size, :size]
    o = (np.abs(np.hypot(rows - centre, cols - centre) - centre) < 0.5).astype(float)
    return x, o


def make_images(count: int, rng: np.random.Generator, noise: float = 0.25,
                sizes: tuple[int, ...] = (5, 7)) -> tuple[np.ndarray, np.ndarray]:
    """`count` noisy images (count, 1, 9, 9) float32 and labels (count, 1) float32: 1 for X, 0 for O."""
    labels = rng.integers(0, 2, count)
    size_index = rng.integers(0, len(sizes), count)
    largest = max(sizes)
    # stamps[s, label] is the glyph of sizes[s] in the top-left corner of a largest x largest square.
    stamps = np.zeros((len(sizes), 2, largest, largest))
    for s, size in enumerate(sizes):
        stamps[s, 1, :size, :size], stamps[s, 0, :size, :size] = glyphs(size)
    size_of = np.asarray(sizes)[size_index]
    top = rng.integers(0, FRAME - size_of + 1)
    left = rng.integers(0, FRAME - size_of + 1)
    # Paste every stamp at its offset in one fancy-indexed assignment, on a canvas wide enough for any
    # offset, then keep the frame: the stamp's empty margin falls outside it or onto zeros.
    canvas = np.zeros((count, FRAME + largest, FRAME + largest))
    offsets = np.arange(largest)
    canvas[np.arange(count)[:, None, None], (top[:, None] + offsets)[:, :, None],
           (left[:, None] + offsets)[:, None, :]] = stamps[size_index, labels]
    images = canvas[:, None, :FRAME, :FRAME] + noise * rng.standard_normal((count, 1, FRAME, FRAME))
    return images.astype(np.float32), labels[:, None].astype(np.float32)


def build_model(filters: int = 8) -> nn.Sequential:
    """(N, 1, 9, 9) images -> (N, 1) probabilities that each is an X."""
    return nn.Sequential(
        nn.Conv2d(1, filters, 3), nn.ReLU(), nn.MaxPool2d(2),  # filters x 3 x 3
        nn.Flatten(), nn.Linear(filters * 3 * 3, 1), nn.Sigmoid(),
    )


def threshold_predictions(probabilities: tc.Tensor) -> np.ndarray:
    """X (1) where the probability is above one half, else O (0): (N, 1) -> (N, 1)."""
    return (probabilities.detach().numpy() > 0.5).astype(np.float32)


def best_match(kernel: np.ndarray) -> tuple[str, float]:
    """The template a 3x3 kernel resembles most and their cosine similarity (1 = same shape), means removed."""
    centred = kernel - kernel.mean()
    norm = np.linalg.norm(centred)
    scores = {name: float((centred * (t - t.mean())).sum() / (norm * np.linalg.norm(t - t.mean()) or 1.0))
              for name, t in TEMPLATES.items()}
    name = max(scores, key=scores.get)
    return name, scores[name]


def filter_picture(kernel: np.ndarray) -> list[str]:
    """Three text lines drawing a 3x3 kernel ('##' strongly positive ... '==' strongly negative), with values."""
    scale = np.abs(kernel).max() or 1.0
    return ["".join(next(mark for bound, mark in SHADES if v / scale > bound) for v in row)
            + "    " + " ".join(f"{v:+.2f}" for v in row) for row in kernel]


def print_filters(weight: np.ndarray, readout: np.ndarray) -> list[tuple[str, float]]:
    """Print each learned filter (F, 1, 3, 3) as a text picture with what it resembles; returns the matches.

    `readout` (F,) is how much each filter's strongest response pushes towards "X" in the last layer.
    """
    matches = [best_match(kernel[0]) for kernel in weight]
    print("\nlearned 3x3 filters ('##' strongly positive weight, '++' positive, '--' negative, "
          "'==' strongly negative):")
    for index, (kernel, (name, score)) in enumerate(zip(weight, matches, strict=True)):
        verdict = "towards X" if readout[index] > 0 else "towards O"
        print(f"\nfilter {index}: most like {name} (similarity {score:+.2f}); votes {verdict}")
        for line in filter_picture(kernel[0]):
            print("    " + line)
    diagonal = sum(name.startswith("diagonal") and score >= 0.7 for name, score in matches)
    print(f"\n{diagonal} of {len(matches)} filters are diagonal-edge detectors (similarity >= 0.7): "
          "the strokes of an X.")
    return matches


def main(argv: list[str] | None = None) -> dict:
    """Make the data, train, print the filters; returns history, filters, their matches and votes (for tests)."""
    args = _common.make_parser(__doc__, epochs=10, batch_size=50, lr=0.02, out="runs/x_vs_o").parse_args(argv)
    train_count, test_count = (1000, 500) if not args.quick else (500, 200)
    if args.quick:
        args.epochs = 1
    rng = np.random.default_rng(args.seed)
    train_images, train_labels = make_images(train_count, rng)
    test_images, test_labels = make_images(test_count, rng)
    print(f"{train_count} training and {test_count} test images of {FRAME}x{FRAME}; an X and an O without noise:")
    x, o = glyphs(7)
    for row_x, row_o in zip(x, o, strict=True):
        print("    " + "".join(" #"[int(v)] * 2 for v in row_x) + "      " + "".join(" #"[int(v)] * 2 for v in row_o))

    tc.manual_seed(args.seed)
    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loader = tc.data.DataLoader(tc.data.TensorDataset(train_images, train_labels), batch_size=args.batch_size,
                                shuffle=True, seed=args.seed)
    history = _common.fit(model, F.binary_cross_entropy, optimizer, loader, test_images, test_labels,
                          args.epochs, predict=threshold_predictions)
    conv, readout = model[0], model[4]
    # A filter's pooled responses feed 9 readout weights (its 3x3 map); their sum is its net vote.
    votes = readout.weight.detach().numpy().reshape(len(conv.weight.detach().numpy()), 9).sum(axis=1)
    matches = print_filters(conv.weight.detach().numpy(), votes)
    return dict(history=history, filters=conv.weight.detach().numpy().copy(), matches=matches, votes=votes)


if __name__ == "__main__":
    main()
