"""Utilities for training networks, at torch.nn.utils's path: gradient clipping."""

from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
