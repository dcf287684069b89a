"""Peak memory of tc.load against the checkpoint's size, beside np.load, for a few checkpoint sizes.

    python benchmarks/io_memory.py              # 16, 64 and 256 MiB
    python benchmarks/io_memory.py --mib 1024   # one size

Peak is what tracemalloc saw allocated (NumPy reports its array buffers to it) while the load ran,
over the file's size: 1.0 means the arrays alone. np.load returns arrays; tc.load also wraps them in
Tensors, which before it read arrays into their own buffers meant a copy (2.0).
Only the standard library and NumPy are needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tinygrad_cnn as tc  # noqa: E402


def peak_over_size(load, path: str) -> float:
    """Peak bytes allocated while load(path) ran, over the file's size."""
    tracemalloc.start()
    try:
        load(path)
        return tracemalloc.get_traced_memory()[1] / os.path.getsize(path)
    finally:
        tracemalloc.stop()


def np_load_all(path: str) -> dict:
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="*", default=[16, 64, 256], help="checkpoint sizes in MiB")
    args = parser.parse_args()
    print(f"{'checkpoint':>12} {'tc.load peak/size':>18} {'np.load peak/size':>18}")
    with tempfile.TemporaryDirectory() as folder:
        for mib in args.mib:
            path = os.path.join(folder, f"{mib}.npz")
            # Four layers' weights and biases as Tensors, like a state dict: most of the bytes in the weights.
            rows = mib * 2**20 // 8 // 4 // 1024
            tc.save({f"layer{i}.{name}": tc.ones(*shape, dtype=np.float64) for i in range(4)
                     for name, shape in (("weight", (rows, 1024)), ("bias", (rows,)))}, path)
            print(f"{mib:>9} MiB {peak_over_size(tc.load, path):>18.3f} {peak_over_size(np_load_all, path):>18.3f}")
            os.remove(path)


if __name__ == "__main__":
    main()
