"""erf and erfc over arrays, to float64 accuracy (NumPy has neither; scipy is not a dependency).

W. J. Cody's rational Chebyshev approximations (CALERF, "Rational Chebyshev approximations for the error
function", Math. Comp. 23, 1969; the public-domain Netlib SPECFUN routine), evaluated on whole arrays: one
rational function per interval of |x| (<= 0.46875, <= 4, > 4), each accurate to about one float64 rounding.
erfc is computed directly in the tails, never as 1 - erf, so erfc(10) = 2.1e-45 keeps all its digits.
"""

from __future__ import annotations

import numpy as np

_SMALL = 0.46875  # |x| below it: erf by a rational function of x**2
_MEDIUM = 4.0  # |x| up to it: erfc by a rational function of |x|
_ERFC_UNDERFLOW = 27.3  # erfc(x) rounds to 0 in float64 from here on (Cody stops at 26.543, before the subnormals)

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    square = x * x
    numerator, denominator = _A[4] * square, square
    for i in range(3):
        numerator = (numerator + _A[i]) * square
        denominator = (denominator + _B[i]) * square
    return x * (numerator + _A[3]) / (denominator + _B[3])


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y**2), with y**2 split as a multiple of 1/16 plus a remainder: y*y rounded would cost digits."""
    head = np.trunc(y * 16) / 16
    return np.exp(-head * head) * np.exp(-(y - head) * (y + head))


def _erfc_positive(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (nan stays nan, inf gives 0)."""
    result = np.zeros_like(y)
    medium = y <= _MEDIUM
    if medium.any():
        ym = y[medium]
        numerator, denominator = _C[8] * ym, ym
        for i in range(7):
            numerator = (numerator + _C[i]) * ym
            denominator = (denominator + _D[i]) * ym
        result[medium] = _exp_minus_square(ym) * (numerator + _C[7]) / (denominator + _D[7])
    large = (y > _MEDIUM) & (y < _ERFC_UNDERFLOW)
    if large.any():
        yl = y[large]
        inverse_square = 1 / (yl * yl)
        numerator, denominator = _P[5] * inverse_square, inverse_square
        for i in range(4):
            numerator = (numerator + _P[i]) * inverse_square
            denominator = (denominator + _Q[i]) * inverse_square
        tail = inverse_square * (numerator + _P[4]) / (denominator + _Q[4])
        result[large] = _exp_minus_square(yl) * (_ONE_OVER_SQRT_PI - tail) / yl
    result[np.isnan(y)] = np.nan
    return result


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x), elementwise, in float64 (any shape)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(x)
    small = y <= _SMALL
    result = np.empty_like(x)
    result[small] = 1 - _erf_small(x[small])
    rest = ~small
    tail = _erfc_positive(y[rest])
    result[rest] = np.where(x[rest] < 0, 2 - tail, tail)
    return result


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in float64 (any shape)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(x)
    small = y <= _SMALL
    result = np.empty_like(x)
    result[small] = _erf_small(x[small])
    rest = ~small
    complement = _erfc_positive(y[rest])
    result[rest] = np.copysign((0.5 - complement) + 0.5, x[rest])
    return result
