"""`tc.data`: the same module as `tc.utils.data` (PyTorch's path), kept for code written before it moved.

`import tinygrad_cnn.data` and `from tinygrad_cnn.data import DataLoader` give the objects of
`tinygrad_cnn.utils.data` itself: this module replaces itself in `sys.modules` with that one.
"""

import sys

from .utils import data as _data

sys.modules[__name__] = _data
