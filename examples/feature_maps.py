"""See what convolution does: classic hand-made kernels and a trained network's filters applied to a digit.

What it teaches: a convolution slides a small kernel over the image and writes, at each place, how much
the patch under it looks like the kernel. Hand-made kernels show the idea (a vertical-edge kernel lights
up at left and right edges of a stroke, a horizontal one at top and bottom, a blur smooths, a sharpen
exaggerates); the first layer of the CNN from `train_digits.py` learns kernels of its own, shown beside
them. Red is positive, blue negative. The figure is saved as a PNG (matplotlib, the `examples` extra).

    python examples/feature_maps.py                                   # trains the digits CNN for 3 epochs
    python examples/feature_maps.py --checkpoint runs/digits/model.npz --index 5
    python examples/feature_maps.py --quick
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _common
import numpy as np
import train_digits

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

# Named as what they detect. conv2d is a cross-correlation, as in PyTorch: the kernel is not flipped,
# so the Sobel kernel below, positive on the left, responds positively where the image is brighter
# on the left, i.e. at the right-hand edge of a bright stroke.
CLASSIC_KERNELS = {
    "vertical edge (Sobel)": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edge (Sobel)": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "blur (Gaussian)": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
COLUMNS = 8


def first_layer_model(args: argparse.Namespace) -> tc.nn.Module:
    """The digits CNN, loaded from `args.checkpoint` or trained here for `args.epochs`."""
    if args.checkpoint is not None:
        model = train_digits.build_model()
        model.load_state_dict(tc.load(args.checkpoint))
        print(f"loaded the trained digits CNN from {args.checkpoint}")
        return model
    print(f"training the digits CNN of train_digits.py for {args.epochs} epoch(s) to get learned filters")
    data = train_digits.load_data(args.quick, args.seed)
    model, _ = train_digits.train(data, args.epochs, args.batch_size, args.lr, args.seed)
    return model


def show(ax: Any, image: np.ndarray, title: str, signed: bool = True) -> None:
    """Draw one 2-D array: signed values red/blue around white at zero, or grey for an input image."""
    if signed:
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    else:
        ax.imshow(image, cmap="gray_r", interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def draw(plt: Any, digit: np.ndarray, label: int, kernels: np.ndarray, kernel_maps: np.ndarray,
         filters: np.ndarray, filter_maps: np.ndarray) -> Any:
    """The figure: the digit, then each kernel (C, 3, 3) above its feature map (C, H, W), hand-made then learned."""
    learned_rows = 2 * -(-len(filters) // COLUMNS)
    figure, axes = plt.subplots(2 + learned_rows, COLUMNS, figsize=(1.6 * COLUMNS, 1.7 * (2 + learned_rows)))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].axis("on")
    show(axes[0, 0], digit, f"input: a {label}", signed=False)
    for column, name in enumerate(CLASSIC_KERNELS, start=1):
        for row, image, title in ((0, kernels[column - 1], name), (1, kernel_maps[column - 1], "its feature map")):
            axes[row, column].axis("on")
            show(axes[row, column], image, title)
    for index, (kernel, feature_map) in enumerate(zip(filters, filter_maps, strict=True)):
        row, column = 2 + 2 * (index // COLUMNS), index % COLUMNS
        for offset, image, title in ((0, kernel, f"learned filter {index}"), (1, feature_map, "its feature map")):
            axes[row + offset, column].axis("on")
            show(axes[row + offset, column], image, title)
    legend = ("Each map shows, at every pixel, how much the\n3x3 patch of the digit around it looks like\n"
              "the kernel above (the sum of their products).\n\nred: positive, blue: negative, white: zero\n"
              "(each picture scaled to its own largest value)")
    figure.suptitle("Hand-made kernels (top two rows) and the trained CNN's first-layer filters (below), "
                    "each above what it makes of the digit", fontsize=10)
    figure.tight_layout()
    # Placed after the layout, in the empty corner, so that tight_layout does not make room for it.
    corner = axes[0, 5].get_position()
    figure.text(corner.x0, (corner.y0 + corner.y1) / 2, legend, fontsize=9, va="center")
    return figure


def main(argv: list[str] | None = None) -> dict:
    """Apply the kernels and the learned filters to one test digit and save the figure; returns what it drew."""
    parser = _common.make_parser(__doc__, epochs=3, batch_size=32, lr=3e-3, out="runs/feature_maps")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="a model.npz written by train_digits.py (default: train one here)")
    parser.add_argument("--index", type=int, default=0, help="which test digit to show (default 0)")
    args = parser.parse_args(argv)
    matplotlib = _common.require("matplotlib", "feature_maps.py (to draw the figure)")
    matplotlib.use("Agg")  # files only: no window, works without a display
    import matplotlib.pyplot as plt

    if args.quick:
        args.epochs = 1
    _, _, test_images, test_labels = _common.digit_arrays()
    if not 0 <= args.index < len(test_images):
        parser.error(f"--index must be in [0, {len(test_images)}), got {args.index}")
    model = first_layer_model(args)
    digit = tc.tensor(test_images[args.index:args.index + 1])
    kernels = np.array(list(CLASSIC_KERNELS.values()), dtype=np.float32)
    conv = model[0]
    with tc.no_grad():
        # padding=1 keeps each map 8x8 like the digit. The learned filters go without their bias, as the
        # hand-made ones do: a bias only shifts a whole map (and BatchNorm, next, removes it anyway).
        kernel_maps = F.conv2d(digit, tc.tensor(kernels[:, None]), padding=1).detach().numpy()[0]
        filter_maps = F.conv2d(digit, conv.weight, padding=1).detach().numpy()[0]
    figure = draw(plt, digit.detach().numpy()[0, 0], int(test_labels[args.index]), kernels, kernel_maps,
                  conv.weight.detach().numpy()[:, 0], filter_maps)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "feature_maps.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    _common.announce(path, "the figure")
    return dict(path=path, kernel_maps=kernel_maps, filter_maps=filter_maps)


if __name__ == "__main__":
    main()
