"""float32 log and sincos as PyTorch's AVX2/AVX-512 `randn` computes them (the Cephes polynomials).

PyTorch's vectorised normal fill evaluates `log`, `sin` and `cos` with the single-precision Cephes
range reduction and polynomials, eight lanes at a time, built with fused multiply-adds where the
compiler contracts a product into a sum. Each step below is one of those float32 operations, so the
results are PyTorch's bit for bit. A fused multiply-add is exact in float64 here: the product of two
float32 values fits a double's mantissa, and the sum is rounded once more to float32.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
_LOG_POLY = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
             -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
_COS_POLY = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
_SIN_POLY = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_PI_PARTS = (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)  # -pi/4 in three pieces
_SIGN = np.uint32(0x80000000)


def _fma(a: np.ndarray, b: np.ndarray | float, c: np.ndarray | float) -> np.ndarray:
    """a * b + c rounded once to float32."""
    wide = np.asarray(a, np.float64) * np.asarray(b, F32).astype(np.float64)
    return (wide + np.asarray(c, F32).astype(np.float64)).astype(F32)


def log(x: np.ndarray) -> np.ndarray:
    """Natural log of positive normal float32 values, as Cephes' logf in PyTorch's vector code."""
    bits = x.view(np.int32)
    exponent = ((bits >> 23) - 0x7F).astype(F32) + F32(1)
    mantissa = ((bits & ~np.int32(0x7F800000)) | F32(0.5).view(np.int32)).view(F32)  # in [0.5, 1)
    small = mantissa < F32(0.707106781186547524)
    m = (mantissa - F32(1)) + np.where(small, mantissa, F32(0))
    exponent = exponent - np.where(small, F32(1), F32(0))
    z = m * m
    y = np.full_like(m, F32(_LOG_POLY[0]))
    for coefficient in _LOG_POLY[1:]:
        y = _fma(y, m, F32(coefficient))
    y = _fma(y * m, z, exponent * F32(-2.12194440e-4))
    y = _fma(z, -0.5, y)
    return _fma(exponent, 0.693359375, m + y)


def sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin x, cos x) of float32 values, as Cephes' sinf/cosf in PyTorch's vector code."""
    sign_sin = x.view(np.uint32) & _SIGN
    x = np.abs(x)
    octant = (x * F32(1.27323954473516)).astype(np.int32)
    octant = (octant + 1) & ~np.int32(1)
    y = octant.astype(F32)
    sign_sin = sign_sin ^ ((octant & 4) << 29).astype(np.uint32)
    sign_cos = ((~(octant - 2) & 4) << 29).astype(np.uint32)
    use_sin_poly = (octant & 2) == 0
    for part in _PI_PARTS:
        x = _fma(y, part, x)
    z = x * x
    c = np.full_like(x, F32(_COS_POLY[0]))
    for coefficient in _COS_POLY[1:]:
        c = _fma(c, z, F32(coefficient))
    c = _fma(c * z, z, -(z * F32(0.5))) + F32(1)
    s = np.full_like(x, F32(_SIN_POLY[0]))
    for coefficient in _SIN_POLY[1:]:
        s = _fma(s, z, F32(coefficient))
    s = _fma(s * z, x, x)
    sin = np.where(use_sin_poly, s, c).view(np.uint32) ^ sign_sin
    cos = np.where(use_sin_poly, c, s).view(np.uint32) ^ sign_cos
    return sin.view(F32), cos.view(F32)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of doubles into two 26-bit halves whose products are exact."""
    scaled = a * 134217729.0  # 2**27 + 1
    high = scaled - (scaled - a)
    return high, a - high


def fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """a * b + c for float64 arrays with one rounding, as a fused multiply-add gives it.

    The product's exact error (Dekker) and the sum's (Knuth's two-sum) are added back before rounding.
    """
    a = np.asarray(a, np.float64)
    if b == 1 and c == 0:
        return a
    b_array = np.full_like(a, b)
    product = a * b_array
    a_high, a_low = _split(a)
    b_high, b_low = _split(b_array)
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    virtual = total - product
    sum_error = (product - (total - virtual)) + (c - virtual)
    return total + (product_error + sum_error)
