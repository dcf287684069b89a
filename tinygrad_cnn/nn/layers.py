"""Layers with PyTorch's constructor arguments and default initialisation; each forward calls `F`.

Weights are float32 unless `dtype=` says otherwise. Linear and conv weights start Kaiming-uniform
with a=sqrt(5) (so U(-1/sqrt(fan_in), 1/sqrt(fan_in))), and their biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..device import resolve_device
from ..ops._util import expect_tensor, pair
from ..ops.embedding import normalize_padding_idx
from ..tensor import DEFAULT_DTYPE, Tensor, as_dtype
from . import functional as F
from . import init
from .module import Module, Parameter, state_array


def _float_dtype(dtype: Any, layer: str, device: Any = None) -> np.dtype:
    """A layer's parameter dtype (float32 unless given), once its `device=` is known to be the CPU."""
    resolve_device(device, layer)
    resolved = DEFAULT_DTYPE if dtype is None else as_dtype(dtype)
    if resolved.kind != "f":
        raise TypeError(f"{layer}: dtype must be float32 or float64, got {resolved}")
    return resolved


def _positive_int(value: Any, name: str, layer: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and conv layers."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


def _add_weight_and_bias(layer: Linear | _ConvNd, weight_shape: tuple[int, ...], bias: bool, dtype: Any) -> None:
    """Give a Linear or conv layer its weight (out, ...) and, if `bias`, its bias (out,), initialised as PyTorch
    does (the layer's `reset_parameters`)."""
    layer.weight = Parameter(state_array(weight_shape, dtype))
    if bias:
        layer.bias = Parameter(state_array((weight_shape[0],), dtype))
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()


class Linear(Module):
    """y = x @ weight.T + bias: (*, in_features) -> (*, out_features)."""

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        dtype = _float_dtype(dtype, "Linear", device)
        _add_weight_and_bias(self, (out_features, in_features), bias, dtype)

    def reset_parameters(self) -> None:
        """Draw the weights again with PyTorch's default initialisation."""
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        expect_tensor("linear", "input", input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"{self._describe()}: expected input of shape (*, {self.in_features}), "
                             f"got {input.shape}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, initialisation, input check and repr."""

    n: int  # spatial dims
    layout: str  # for error messages
    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        layer = type(self).__name__
        self.in_channels = _positive_int(in_channels, "in_channels", layer)
        self.out_channels = _positive_int(out_channels, "out_channels", layer)
        self.groups = _positive_int(groups, "groups", layer)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{layer}: padding_mode {padding_mode!r} is not supported (only 'zeros')")
        self.kernel_size = pair(kernel_size, "kernel_size", layer, self.n)
        self.stride = pair(stride, "stride", layer, self.n)
        self.dilation = pair(dilation, "dilation", layer, self.n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{layer}: padding {padding!r} is not supported, use 'same', 'valid' or ints")
            self.padding: Any = padding
        else:
            self.padding = pair(padding, "padding", layer, self.n)
        self.padding_mode = padding_mode
        dtype = _float_dtype(dtype, layer, device)
        _add_weight_and_bias(self, (out_channels, in_channels // groups, *self.kernel_size), bias, dtype)

    def reset_parameters(self) -> None:
        """Draw the weights again with PyTorch's default initialisation."""
        _reset_weight_and_bias(self.weight, self.bias)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim != self.n + 2 or input.shape[1] != self.in_channels:
            raise ValueError(f"{self._describe()}: expected input of shape ({self.layout}) with "
                             f"C={self.in_channels}, got {input.shape}")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation): (N, C_in, L) -> (N, C_out, L_out); weight (C_out, C_in/groups, k)."""

    n, layout = 1, "N, C, L"

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation): (N, C_in, H, W) -> (N, C_out, H_out, W_out);
    weight (C_out, C_in/groups, kh, kw). `padding` may be ints, 'valid' or 'same'."""

    n, layout = 2, "N, C, H, W"

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: PyTorch's parameters, buffers and momentum rules."""

    shapes: str  # the accepted input layouts, for error messages
    weight: Parameter | None  # None without affine
    bias: Parameter | None
    running_mean: Tensor | None  # buffers, None without track_running_stats
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        layer = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", layer)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = _float_dtype(dtype, layer, device)
        if affine:
            self.weight = Parameter(state_array((num_features,), dtype, 1))
            self.bias = Parameter(state_array((num_features,), dtype, 0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(state_array((num_features,), dtype, 0)))
            self.register_buffer("running_var", Tensor(state_array((num_features,), dtype, 1)))
            self.register_buffer("num_batches_tracked", Tensor(state_array((), np.int64, 0)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:  # then the buffers are Tensors, not None
            self.running_mean._data[...] = 0  # type: ignore[union-attr]
            self.running_var._data[...] = 1  # type: ignore[union-attr]
            self.num_batches_tracked._data[...] = 0  # type: ignore[union-attr]

    def _check_input(self, input: Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:  # then the buffers are Tensors, not None
            self.num_batches_tracked._data += 1  # type: ignore[union-attr]
            if self.momentum is None:  # a cumulative average, as PyTorch does for momentum=None
                momentum = 1.0 / float(self.num_batches_tracked._data)  # type: ignore[union-attr]
        # Eval mode without running statistics normalises with the batch's own, as PyTorch.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L), per channel C."""

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {input.shape}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W), per channel C."""

    def _check_input(self, input: Tensor) -> None:
        if input.ndim != 4 or input.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape (N, {self.num_features}, H, W), "
                             f"got {input.shape}")


class ReLU(Module):
    """max(x, 0), any shape."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x; any shape."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e**-x), any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent, any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softmax(Module):
    """Softmax along `dim` (PyTorch's implicit choice when None); same shape as the input."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """The input itself; takes (and ignores) any arguments, as PyTorch's, so it can stand in for another layer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Dropout2d(Module):
    """In training, zero each whole channel input[n, c] with probability p and scale the rest by 1/(1-p);
    identity in eval. (N, C, H, W) -> the same shape (3-d input is read as (N, C, L), as PyTorch 2.x does)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size`: (*, S, *) -> (*, U1, ..., Un, *) with U1 * ... * Un = S."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for position, size in enumerate(unflattened_size):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
                raise TypeError(f"Unflatten: unflattened_size must be tuple of ints, but found element of type "
                                f"{type(size).__name__} at pos {position}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Conv3d(_ConvNd):
    """3-D convolution (cross-correlation): (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out);
    weight (C_out, C_in/groups, kd, kh, kw). `padding` may be ints, 'valid' or 'same'."""

    n, layout = 3, "N, C, D, H, W"

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return F.conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(Module):
    """What ConvTranspose1d/2d/3d share: PyTorch's arguments, parameters (weight (C_in, C_out/groups, *kernel)),
    initialisation (as conv's, the fan-in read from that weight as PyTorch does), `output_size=` and repr."""

    n: int  # spatial dims
    layout: str  # for error messages
    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        layer = type(self).__name__
        self.in_channels = _positive_int(in_channels, "in_channels", layer)
        self.out_channels = _positive_int(out_channels, "out_channels", layer)
        self.groups = _positive_int(groups, "groups", layer)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f'{layer}: only "zeros" padding mode is supported, got padding_mode={padding_mode!r}')
        self.kernel_size = pair(kernel_size, "kernel_size", layer, self.n)
        self.stride = pair(stride, "stride", layer, self.n)
        self.padding = pair(padding, "padding", layer, self.n)
        self.output_padding = pair(output_padding, "output_padding", layer, self.n)
        self.dilation = pair(dilation, "dilation", layer, self.n)
        self.padding_mode = padding_mode
        dtype = _float_dtype(dtype, layer)
        self.weight = Parameter(state_array((in_channels, out_channels // groups, *self.kernel_size), dtype))
        if bias:
            self.bias = Parameter(state_array((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weights again with PyTorch's default initialisation."""
        _reset_weight_and_bias(self.weight, self.bias)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """self.output_padding, or the one that gives `output_size` ((*spatial) or (N, C, *spatial)) as PyTorch."""
        if output_size is None:
            return self.output_padding
        sizes = tuple(output_size)
        if len(sizes) == self.n + 2:
            sizes = sizes[2:]
        if len(sizes) != self.n:
            raise ValueError(f"{self._describe()}: for {input.ndim}D input, output_size must have {self.n} or "
                             f"{self.n + 2} elements (got {len(sizes)}: {output_size!r})")
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                         zip(input.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(low + s - 1 for low, s in zip(smallest, self.stride))
        if any(not low <= size <= high for size, low, high in zip(sizes, smallest, largest)):
            raise ValueError(f"{self._describe()}: requested an output size of {list(sizes)}, but valid sizes range "
                             f"from {list(smallest)} to {list(largest)} (for an input of {list(input.shape[2:])})")
        return tuple(size - low for size, low in zip(sizes, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        if input.ndim != self.n + 2 or input.shape[1] != self.in_channels:
            raise ValueError(f"{self._describe()}: expected input of shape ({self.layout}) with "
                             f"C={self.in_channels}, got {input.shape}")
        output_padding = self._output_padding(input, output_size)
        function = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.n - 1]
        return function(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                        self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.n:
            text += f", padding={self.padding}"
        if self.output_padding != (0,) * self.n:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out); weight (C_in, C_out/groups, k)."""

    n, layout = 1, "N, C, L"


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_in, C_out/groups, kh, kw).
    H_out = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1 (or `output_size=` in forward)."""

    n, layout = 2, "N, C, H, W"


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out);
    weight (C_in, C_out/groups, kd, kh, kw)."""

    n, layout = 3, "N, C, D, H, W"


class Upsample(Module):
    """Resize (N, C, *spatial) to `size` or by `scale_factor` with F.interpolate's modes ('nearest', 'nearest-exact',
    'linear', 'bilinear', 'trilinear'). Arguments are checked when called, as PyTorch."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = size
        # Stored as floats, as PyTorch does (its repr shows them so).
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor: Any = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest upsampling of (N, C, H, W), as Upsample(size, scale_factor, mode='nearest')."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with align_corners=True, as PyTorch's layer of that name."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _PadNd(Module):
    """What the padding layers share: `padding` (an int for every side, or 2n widths in F.pad's order, last dim
    first) and the F.pad mode that fills it."""

    n: int  # padded dims
    mode: str

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        layer = type(self).__name__
        widths = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * self.n)
        if len(widths) != 2 * self.n or not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool)
                                                 for w in widths):
            raise ValueError(f"{layer}: padding must be an int or {2 * self.n} ints, got {padding!r}")
        self.padding, self.value = tuple(int(w) for w in widths), value

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Constant padding with a `value` that the constructor requires, as PyTorch's ConstantPadNd."""

    mode = "constant"

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    """Constant padding with zeros."""

    mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) by reflection at the edges (F.pad mode 'reflect')."""

    n, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) by reflection at the edges (F.pad mode 'reflect')."""

    n, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) by reflection (F.pad mode 'reflect')."""

    n, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) with copies of the edge values (F.pad mode 'replicate')."""

    n, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) with copies of the edge values (mode 'replicate')."""

    n, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with copies of the edges (mode 'replicate')."""

    n, mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) by wrapping around (F.pad mode 'circular')."""

    n, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) by wrapping around (F.pad mode 'circular')."""

    n, mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) by wrapping around (F.pad mode 'circular')."""

    n, mode = 3, "circular"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`."""

    n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with `value`."""

    n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with `value`."""

    n = 3


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""

    n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros."""

    n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""

    n = 3


# ----- pooling ------------------------------------------------------------------------------------------
def _ntuple(value: Any, n: int) -> tuple:
    """PyTorch's _single/_pair/_triple: a sequence as a tuple, anything else repeated n times."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _MaxPoolNd(Module):
    """What MaxPool1d/2d/3d share: PyTorch's arguments (stride defaults to kernel_size) and repr."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def _pool(self, function: Any, input: Tensor) -> Any:
        return function(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                        return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows: (N, C, L) or (C, L) -> (..., L_out); with return_indices, (values, indices)."""

    def forward(self, input: Tensor) -> Any:
        return self._pool(F.max_pool1d, input)


class MaxPool2d(_MaxPoolNd):
    """Max over windows: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out); with return_indices, (values,
    indices) for MaxUnpool2d."""

    def forward(self, input: Tensor) -> Any:
        return self._pool(F.max_pool2d, input)


class MaxPool3d(_MaxPoolNd):
    """Max over windows: (N, C, D, H, W) or (C, D, H, W) -> (..., D_out, H_out, W_out); with return_indices,
    (values, indices)."""

    def forward(self, input: Tensor) -> Any:
        return self._pool(F.max_pool3d, input)


class AvgPool1d(Module):
    """Mean over windows: (N, C, L) or (C, L) -> (..., L_out); arguments kept as 1-tuples, as PyTorch."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(kernel_size if stride is None else stride, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    """What AvgPool2d and AvgPool3d share: PyTorch's arguments (stride defaults to kernel_size) and repr."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _pool(self, function: Any, input: Tensor) -> Tensor:
        return function(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                        self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over windows: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out); divisors as F.avg_pool2d."""

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(F.avg_pool2d, input)


class AvgPool3d(_AvgPoolNd):
    """Mean over windows: (N, C, D, H, W) or (C, D, H, W) -> (..., D_out, H_out, W_out)."""

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(F.avg_pool3d, input)


class _AdaptivePoolNd(Module):
    """What the adaptive pools share: the output size (an int, or a tuple where None keeps that dim)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Mean over adaptive windows: (N, C, L) or (C, L) -> (..., output_size)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Mean over adaptive windows: (N, C, H, W) or (C, H, W) -> (..., OH, OW); output_size 1 is global pooling."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """Mean over adaptive windows: (N, C, D, H, W) or (C, D, H, W) -> (..., OD, OH, OW)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows: (N, C, L) or (C, L) -> (..., output_size); with return_indices, (values,
    indices)."""

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows: (N, C, H, W) or (C, H, W) -> (..., OH, OW); with return_indices, (values,
    indices); output_size 1 is global max pooling."""

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows: (N, C, D, H, W) or (C, D, H, W) -> (..., OD, OH, OW)."""

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """What MaxUnpool1d/2d/3d share: arguments kept as n-tuples, as PyTorch, and the repr."""

    n: int

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self.n)
        self.stride = _ntuple(kernel_size if stride is None else stride, self.n)
        self.padding = _ntuple(padding, self.n)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """MaxPool1d's partial inverse: `layer(values, indices, output_size=None)`, (N, C, L) -> (N, C, L_out)."""

    n = 1

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """MaxPool2d's partial inverse: `layer(values, indices, output_size=None)`, zeros but at the indices:
    (N, C, H, W) -> (N, C, H_out, W_out)."""

    n = 2

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """MaxPool3d's partial inverse: `layer(values, indices, output_size=None)`, (N, C, D, H, W) -> (N, C, OD,
    OH, OW)."""

    n = 3

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class LogSoftmax(Module):
    """log(softmax(x)) along `dim` (PyTorch's implicit choice when None); same shape as the input."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LayerNorm(Module):
    """Layer normalisation over the trailing `normalized_shape` dims: (*, *normalized_shape) -> the same shape,
    with an elementwise weight (ones) and bias (zeros) of `normalized_shape` when `elementwise_affine`."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        if not isinstance(shape, (tuple, list)) or not shape or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be an int >= 0 or a non-empty sequence of them, "
                             f"got {normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = _float_dtype(dtype, "LayerNorm", device)
        if elementwise_affine:
            self.weight = Parameter(state_array(self.normalized_shape, dtype, 1))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(state_array(self.normalized_shape, dtype, 0))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight ones, bias zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalisation: the C channels of (N, C, *) in `num_groups` groups, each normalised per sample; a
    per-channel weight (ones) and bias (zeros) when `affine`. Same shape out."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_groups = _positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _positive_int(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.eps, self.affine = eps, affine
        dtype = _float_dtype(dtype, "GroupNorm", device)
        if affine:
            self.weight = Parameter(state_array((num_channels,), dtype, 1))
            self.bias = Parameter(state_array((num_channels,), dtype, 0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight ones, bias zeros."""
        if self.weight is not None and self.bias is not None:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        expect_tensor("group_norm", "input", input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"{self._describe()}: expected input of shape (N, {self.num_channels}, *), "
                             f"got {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class Embedding(Module):
    """A lookup table: int indices (*) -> their rows (*, embedding_dim) of a (num_embeddings, embedding_dim)
    weight drawn from N(0, 1); the `padding_idx` row starts at zero and gets no gradient."""

    weight: Parameter

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = normalize_padding_idx(padding_idx, self.num_embeddings, "Embedding")
        dtype = _float_dtype(dtype, "Embedding", device)
        self.weight = Parameter(state_array((self.num_embeddings, self.embedding_dim), dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight from N(0, 1) again, the padding row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            self.weight._modified()

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
