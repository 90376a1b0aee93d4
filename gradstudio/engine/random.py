"""PyTorch's CPU random generator: mt19937 words turned into numbers exactly as ATen turns them.

`torch.manual_seed(s)` seeds a Mersenne Twister with the standard `init_genrand` recurrence; numpy's
MT19937 is set to that state and hands out the same 32-bit words. ATen's distributions then read them:
a float32 uniform keeps 24 bits of one word, a float64 uniform 53 bits of two (the first word high);
a normal draw is Box-Muller, one pair at a time in double for fewer than 16 elements (the second value
cached for the next draw), and for 16 or more a fill of uniforms transformed in blocks of 16.
"""

from __future__ import annotations

import math
import os
import struct
from math import cos, log1p, prod, sin, sqrt  # globals: a small draw calls them with an instruction fewer
from typing import Any

import numpy as np

from gradstudio.engine import _vecmath

DEFAULT_SEED = 67280421310721  # what a fresh torch.Generator() starts from
_N = 624
_STATE_FORMAT = "<QiiQ624Q3di4xfB3x"  # PyTorch's CPU generator state as a 5056-byte tensor
# A double uniform u is 53 bits, (high word & _HIGH_BITS) << 32 | low word, times 2**-53. Every step is exact
# (the 53-bit integer is a double, and scaling by a power of two is exact), in numpy or in Python floats; the
# generator keeps -u (the argument of Box-Muller's log1p), and `2.0 * math.pi * u` is -u times _MINUS_TWO_PI.
_HIGH_BITS, _WORD = 0x1FFFFF, 4294967296.0
_MINUS_UNIT = -(2.0 ** -53)
_MINUS_TWO_PI = -2.0 * math.pi
_FLOAT32 = np.dtype(np.float32)
_NO_WORDS = np.empty(0, np.uint64)
_empty = np.empty
# Writes n Python floats into a float32 buffer, each rounded as numpy's double-to-float32 cast rounds it (both are
# the C conversion, to nearest even): randn's few values go straight into their array, in its shape.
_PACK_FLOAT32 = [struct.Struct(f"{count}f").pack_into for count in range(16)]


def _twister_key(seed: int) -> np.ndarray:
    """mt19937's initial state for `seed` (the low 32 bits, as std::mt19937 takes it)."""
    key = np.empty(_N, np.uint32)
    value = seed & 0xFFFFFFFF
    for index in range(_N):
        key[index] = value
        value = (1812433253 * (value ^ (value >> 30)) + index + 1) & 0xFFFFFFFF
    return key


def _seeded_state(seed: int) -> dict[str, Any]:
    """numpy's MT19937 state for a generator just seeded with `seed`."""
    return {"bit_generator": "MT19937", "state": {"key": _twister_key(seed), "pos": _N}}


class Generator:
    """A CPU random generator drawing PyTorch's numbers for a seed."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self._twister: Any = None  # numpy's MT19937, made by `_bits` at the first draw
        # The words the twister has produced but no draw has read yet: the end of its current block, from
        # `_next` on (so the stream stands `len(_block) - _next` words before the twister's position, `_position`:
        # numpy's `pos`, kept here because reading numpy's state copies the whole key). `_minus_uniforms[i]` is
        # -u of the double uniform made of words i and i + 1, as Python floats: a small normal draw indexes them.
        self._block = _NO_WORDS
        self._minus_uniforms: list[float] = []
        self._next = 0
        self._position = _N
        self.manual_seed(DEFAULT_SEED)

    @property
    def _bits(self) -> Any:
        """numpy's MT19937 at this generator's state, made when first drawn from: numpy.random (and the hashlib
        and secrets it imports) loads only then, not while the app starts."""
        if self._twister is None:
            self._twister = np.random.MT19937()
            self._twister.state = _seeded_state(self._seed)
        return self._twister

    def manual_seed(self, seed: int) -> Generator:
        """Restart the sequence from `seed` (any int; negative ones wrap to 64 bits as in PyTorch)."""
        seed = int(seed)
        if not -(1 << 63) <= seed < 1 << 64:
            raise ValueError("Overflow when unpacking long long")
        seed &= 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._load(_NO_WORDS)
        self._position = _N
        if self._twister is not None:  # else `_bits` seeds it when it makes it
            self._twister.state = _seeded_state(seed)
        self._normal_double: float | None = None
        self._normal_float: float | None = None
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def seed(self) -> int:
        """Seed from the operating system's entropy and return that seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def get_state(self) -> Any:
        """The generator's state as PyTorch lays it out (a uint8 tensor of 5056 bytes)."""
        from gradstudio.engine._tensor import Tensor

        state = self._bits.state["state"]
        position = int(state["pos"]) - (len(self._block) - self._next)
        cached = self._normal_double
        packed = struct.pack(_STATE_FORMAT, self._seed, _N + 1 - position, 1, position % (_N + 1),
                             *(int(word) for word in state["key"]), 0.0, cached or 0.0, 0.0, cached is not None,
                             self._normal_float or 0.0, self._normal_float is not None)
        return Tensor._make(np.frombuffer(packed, np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from `get_state()` (ours or PyTorch's)."""
        data = bytes(np.asarray(new_state.numpy() if hasattr(new_state, "numpy") else new_state, np.uint8))
        if len(data) != struct.calcsize(_STATE_FORMAT):
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState of "
                               f"size 5056 but found the input RNG state size to be {len(data)}")
        fields = struct.unpack(_STATE_FORMAT, data)
        seed, left, words = fields[0], fields[1], fields[4:4 + _N]
        self._seed = seed
        self._load(_NO_WORDS)
        self._position = _N + 1 - left
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.array(words, np.uint32), "pos": _N + 1 - left}}
        normal_y, normal_valid, float_sample, float_valid = fields[4 + _N + 1], fields[-3], fields[-2], fields[-1]
        self._normal_double = normal_y if normal_valid else None
        self._normal_float = float_sample if float_valid else None
        return self

    # ----- words and distributions, as ATen reads them -------------------------------------------------

    def words(self, count: int) -> np.ndarray:
        """The next `count` 32-bit outputs, as uint64."""
        start = self._next
        taken = min(len(self._block) - start, count)
        if taken:
            self._next = start + taken
            head = self._block[start:start + taken]
            return head.copy() if taken == count else np.concatenate([head, self._twisted(count - taken)])
        return self._twisted(count) if count else np.empty(0, np.uint64)

    def _twisted(self, count: int) -> np.ndarray:
        """The twister's next `count` (> 0) words, straight from numpy."""
        self._position = (self._position % _N + count - 1) % _N + 1
        return self._bits.random_raw(count)

    def _load(self, block: np.ndarray) -> None:
        """Make `block` (uint64 words) the unread words, with the uniforms each word and the next make."""
        self._block, self._next = block, 0
        self._minus_uniforms = (((block[:-1] & _HIGH_BITS) << 32 | block[1:]) * _MINUS_UNIT).tolist()

    def _word_list(self, count: int) -> list[int]:
        """The next `count` words as Python ints, the twister read a whole block (its next 624 words, or the rest
        of its current block) at a time."""
        start = self._next
        words = self._block[start:start + count].tolist()
        self._next = start + len(words)
        while len(words) < count:  # the block ran out
            self._load(self._bits.random_raw(_N - self._position % _N))
            self._position = _N
            self._next = min(count - len(words), len(self._block))
            words += self._block[:self._next].tolist()
        return words

    def words64(self, count: int) -> np.ndarray:
        """The next `count` 64-bit values, each made of two words, the first one high."""
        pairs = self.words(2 * count)
        return (pairs[0::2] << np.uint64(32)) | pairs[1::2]

    def uniform(self, count: int, dtype: np.dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """`count` uniform samples in [low, high): 24 bits for float32, 53 bits for float64."""
        if np.dtype(dtype) == np.float64:
            unit = (self.words64(count) & np.uint64((1 << 53) - 1)) * 2.0 ** -53
            return _vecmath.fma64(unit, high - low, low)
        low32, high32 = np.float32(low), np.float32(high)
        unit = (self.words(count) & np.uint64(0xFFFFFF)) * 2.0 ** -24
        return _vecmath.fma64(unit, float(high32 - low32), float(low32)).astype(dtype)

    def normal(self, count: int, dtype: np.dtype, mean: float = 0.0, std: float = 1.0,
               contiguous: bool = True) -> np.ndarray:
        """`count` normal samples as `normal_(mean, std)` draws them for a tensor of this many elements."""
        if count < 16 or not contiguous:
            if std == 1 and mean == 0:
                return np.array(self._normal_pairs(count), dtype)
            return _vecmath.fma64(np.array(self._normal_pairs(count), np.float64), std, mean).astype(dtype)
        return self._normal_fill(count, np.dtype(dtype), mean, std)

    def standard_normal(self, shape: tuple[int, ...]) -> np.ndarray:
        """`randn(*shape)`'s float32 draw, in its shape."""
        count = prod(shape)
        if count >= 16:
            return self._normal_fill(count, _FLOAT32, 0.0, 1.0).reshape(shape)
        array = _empty(shape, _FLOAT32)
        _PACK_FLOAT32[count](array, 0, *self._normal_pairs(count))
        return array

    def standard_uniform(self, shape: tuple[int, ...]) -> np.ndarray:
        """`rand(*shape)`'s float32 draw, in its shape."""
        return self.uniform(prod(shape), _FLOAT32).reshape(shape)

    def _normal_pairs(self, count: int) -> list[float]:
        """One at a time in double: a Box-Muller pair gives cos now and caches sin for the next draw. A draw of a
        few numbers runs this loop: each uniform is made in float arithmetic, exact at every step (see _WORD)."""
        values = []
        if count and self._normal_double is not None:
            values.append(self._normal_double)
            self._normal_double = None
        words = (count - len(values) + 1) // 2 * 4  # four a pair
        if words:
            start = self._next
            end = start + words
            if end <= len(self._block):  # within the block
                self._next = end
                minus_uniforms = self._minus_uniforms
            else:
                minus_uniforms, start, end = _minus_uniforms(self._word_list(words)), 0, words
            for index in range(start, end, 4):  # a pair's two uniforms start at its words 0 and 2
                radius = sqrt(-2.0 * log1p(minus_uniforms[index + 2]))
                theta = minus_uniforms[index] * _MINUS_TWO_PI
                values.append(radius * cos(theta))
                values.append(radius * sin(theta))
        if len(values) > count:
            self._normal_double = values.pop()
        return values

    def _normal_fill(self, count: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
        data = self.uniform(count, dtype)
        starts = list(range(0, count - 15, 16))
        tail = None
        if count % 16:
            tail = self.uniform(16, dtype)  # the last 16 are drawn again and transformed as one block
        if starts:
            blocks = data[: 16 * len(starts)].reshape(-1, 16)
            data[: 16 * len(starts)] = _box_muller(blocks, dtype, mean, std).reshape(-1)
        if tail is not None:
            data[count - 16:] = _box_muller(tail.reshape(1, 16), dtype, mean, std).reshape(-1)
        return data

    def bernoulli(self, count: int, p: float) -> np.ndarray:
        """`count` draws of 1.0 with probability p (`bernoulli_(p)`: a float64 uniform below p)."""
        return (self.uniform(count, np.float64) < p).astype(np.float64)

    def random_below(self, count: int, span: int) -> np.ndarray:
        """`count` integers `word % span` (two words each when span needs more than 32 bits)."""
        words = self.words64(count) if span >= 1 << 32 else self.words(count)
        return (words % np.uint64(span)).astype(np.int64)

    def permutation(self, n: int) -> np.ndarray:
        """randperm(n): a swap with a random later element at each position, as ATen's CPU kernel does."""
        result = np.arange(n, dtype=np.int64)
        words = self.words(max(n - 1, 0))
        for i in range(n - 1):
            z = i + int(words[i]) % (n - i)
            result[i], result[z] = result[z], result[i]
        return result


def _minus_uniforms(words: list[int]) -> list[float]:
    """-u of the double uniform each word and the next make, in Python floats (as `Generator._load` makes them in
    numpy: every step exact, the same doubles)."""
    return [((high & _HIGH_BITS) * _WORD + low) * _MINUS_UNIT for high, low in zip(words, words[1:])]


def _box_muller(blocks: np.ndarray, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """Rows of 16 uniforms to 16 normals: the first 8 give the radii, the last 8 the angles."""
    if dtype == np.float32:
        radius = np.sqrt(np.float32(-2) * _vecmath.log(np.float32(1) - blocks[:, :8]))
        sin, cos = _vecmath.sincos(np.float32(2 * math.pi) * blocks[:, 8:])
        pairs = np.concatenate([radius * cos, radius * sin], axis=1).astype(np.float64)
        return (pairs * np.float64(np.float32(std)) + np.float64(np.float32(mean))).astype(np.float32)
    flat_u1 = (1 - blocks[:, :8]).ravel().tolist()
    flat_u2 = blocks[:, 8:].ravel().tolist()
    radius = np.array([math.sqrt(-2 * math.log(u)) for u in flat_u1])
    theta = [2.0 * math.pi * u for u in flat_u2]
    cos = np.array([math.cos(t) for t in theta])
    sin = np.array([math.sin(t) for t in theta])
    normals = np.concatenate([(radius * cos).reshape(-1, 8), (radius * sin).reshape(-1, 8)], axis=1)
    return _vecmath.fma64(normals, std, mean)


default_generator = Generator()
default_generator.seed()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it, as PyTorch does."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def seed() -> int:
    """Seed the default generator from the operating system's entropy."""
    return default_generator.seed()


def get_rng_state() -> Any:
    """The default generator's state."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(new_state)


def resolve(generator: Generator | None) -> Generator:
    """The generator a draw uses."""
    return default_generator if generator is None else generator
