"""Symbolic local derivatives, written once per op as data on its catalog entry.

A small expression language: `Var("b") * Var("a") ** (Var("b") - 1)` renders as
`b·a^(b - 1)` with the graph's names, as `3·2^(3 - 1)` with one element's numbers,
and evaluates on numpy arrays, so the same data gives the formula, the numbers
plugged in, and the gradient the tests check against the engine's.

Four kinds of derivative: `Pointwise` (elementwise ops and losses: a local
derivative per element), `Reduce` (reductions: per input element, times the
incoming gradient of the output element it fed), `Route` (shape ops: each element
is moved, its local derivative is 1) and `Matrix` (matmul, softmax, cross entropy:
the standard matrix form, and the numbers of one element).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Env = Mapping[str, Any]
Names = Mapping[str, str]
MAX_DENOMINATOR = 12  # 1/3, 2/7, 5/12 read as fractions; a larger denominator reads better as a decimal
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
SHOWN = {"+": " + ", "-": " - ", "*": "·", "/": "/", "^": "^"}
APPLY: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater, "<": np.less, "=": np.equal, "≥": np.greater_equal, "≤": np.less_equal}


def _phi(x: Any) -> Any:
    return np.exp(-0.5 * np.square(x)) / math.sqrt(2 * math.pi)


def _big_phi(x: Any) -> Any:
    return 0.5 * (1 + np.vectorize(math.erf, otypes=[float])(np.asarray(x, dtype=float) / math.sqrt(2)))


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sign": np.sign, "abs": np.abs, "σ": lambda x: 1 / (1 + np.exp(-x)), "φ": _phi, "Φ": _big_phi}


class Expr:
    """A node of a formula: renders with names or numbers, and evaluates elementwise."""

    precedence = 4

    def render(self, names: Names) -> str:
        """The formula with each variable shown as `names` says (a graph name, or one element's number)."""
        raise NotImplementedError

    def evaluate(self, env: Env) -> Any:
        """The value for every element (numpy broadcasting), variables read from `env`."""
        raise NotImplementedError

    def __add__(self, other: Any) -> Expr:
        return Op("+", self, lift(other))

    def __radd__(self, other: Any) -> Expr:
        return Op("+", lift(other), self)

    def __sub__(self, other: Any) -> Expr:
        return Op("-", self, lift(other))

    def __rsub__(self, other: Any) -> Expr:
        return Op("-", lift(other), self)

    def __mul__(self, other: Any) -> Expr:
        return Op("*", self, lift(other))

    def __rmul__(self, other: Any) -> Expr:
        return Op("*", lift(other), self)

    def __truediv__(self, other: Any) -> Expr:
        return Op("/", self, lift(other))

    def __rtruediv__(self, other: Any) -> Expr:
        return Op("/", lift(other), self)

    def __pow__(self, other: Any) -> Expr:
        return Op("^", self, lift(other))

    def __neg__(self) -> Expr:
        return Op("*", Num(-1), self)

    def __gt__(self, other: Any) -> Expr:
        return Compare(">", self, lift(other))

    def __lt__(self, other: Any) -> Expr:
        return Compare("<", self, lift(other))

    def equals(self, other: Any) -> Expr:
        """The elementwise test self == other (`==` stays Python's identity)."""
        return Compare("=", self, lift(other))


def lift(value: Any) -> Expr:
    """An expression as is; a number as a constant."""
    return value if isinstance(value, Expr) else Num(value)


def number_text(value: float) -> str:
    """A number as formulas show it: `1/3` for a simple fraction no decimal ends, else four significant digits."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    from fractions import Fraction  # loaded by the first formula shown (with decimal), not while the app starts

    fraction = Fraction(value).limit_denominator(MAX_DENOMINATOR)
    if _repeats(fraction.denominator) and abs(float(fraction) - value) <= 1e-6 * abs(value):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{value:.4g}"


def _repeats(denominator: int) -> bool:
    """True when 1/denominator has no finite decimal (a prime factor other than 2 and 5)."""
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator > 1


def factor_text(value: float) -> str:
    """A number as one factor of a product: `(-2)` and `(1/3)` in parentheses."""
    text = number_text(value)
    return f"({text})" if text.startswith("-") or "/" in text else text


@dataclass(frozen=True, eq=False)
class Num(Expr):
    """A constant."""

    value: float

    def render(self, names: Names) -> str:
        return factor_text(self.value)

    def evaluate(self, env: Env) -> Any:
        return self.value


@dataclass(frozen=True, eq=False)
class Var(Expr):
    """A port's input, `out` (the op's output) or an attribute, read from the environment by name."""

    name: str

    def render(self, names: Names) -> str:
        return names.get(self.name, self.name)

    def evaluate(self, env: Env) -> Any:
        return env[self.name]


@dataclass(frozen=True, eq=False)
class Op(Expr):
    """A binary arithmetic operation."""

    symbol: str
    left: Expr
    right: Expr

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return PRECEDENCE[self.symbol]

    def render(self, names: Names) -> str:
        if self.symbol == "*" and isinstance(self.left, Num) and self.left.value == -1:
            return "-" + _wrapped(self.right, names, self.precedence)
        if self.symbol == "^" and isinstance(self.right, Num) and self.right.value == 2:
            return _wrapped(self.left, names, self.precedence) + "²"
        right_bound = self.precedence + (self.symbol in "-/^")
        return (_wrapped(self.left, names, self.precedence + (self.symbol == "^")) + SHOWN[self.symbol]
                + _wrapped(self.right, names, right_bound))

    def evaluate(self, env: Env) -> Any:
        return APPLY[self.symbol](self.left.evaluate(env), self.right.evaluate(env))


def _wrapped(expr: Expr, names: Names, bound: int) -> str:
    text = expr.render(names)
    return f"({text})" if expr.precedence < bound else text


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A function of one argument: `exp(x)`."""

    function: str
    argument: Expr

    def render(self, names: Names) -> str:
        return f"{self.function}({self.argument.render(names)})"

    def evaluate(self, env: Env) -> Any:
        return FUNCTIONS[self.function](np.asarray(self.argument.evaluate(env), dtype=float))


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    """An elementwise comparison, true or false per element."""

    symbol: str
    left: Expr
    right: Expr
    precedence = 0

    def render(self, names: Names) -> str:
        return f"{self.left.render(names)} {self.symbol} {self.right.render(names)}"

    def evaluate(self, env: Env) -> Any:
        return COMPARE[self.symbol](self.left.evaluate(env), self.right.evaluate(env))


@dataclass(frozen=True, eq=False)
class Choose(Expr):
    """`then if condition else otherwise`, per element."""

    condition: Expr
    then: Expr
    otherwise: Expr
    precedence = 0

    def render(self, names: Names) -> str:
        return (f"{_wrapped(self.then, names, 1)} if {self.condition.render(names)} "
                f"else {_wrapped(self.otherwise, names, 0)}")

    def evaluate(self, env: Env) -> Any:
        return np.where(np.asarray(self.condition.evaluate(env), dtype=bool), self.then.evaluate(env),
                        self.otherwise.evaluate(env))


def choose(condition: Expr, then: Any, otherwise: Any) -> Expr:
    """`then` where `condition` holds, else `otherwise`."""
    return Choose(condition, lift(then), lift(otherwise))


def call(function: str, argument: Any) -> Expr:
    """`function(argument)`, a name of FUNCTIONS."""
    return Call(function, lift(argument))


@dataclass(frozen=True, eq=False)
class Within(Expr):
    """1 where `low ≤ x ≤ high`, else 0; a bound whose attribute is empty (None) is no bound."""

    x: Expr
    low: str
    high: str
    precedence = 0

    def render(self, names: Names) -> str:
        bounds = [f"{names.get(self.low)} ≤ " if names.get(self.low) not in (None, "None") else "",
                  self.x.render(names),
                  f" ≤ {names.get(self.high)}" if names.get(self.high) not in (None, "None") else ""]
        return f"1 if {''.join(bounds)} else 0"

    def evaluate(self, env: Env) -> Any:
        x = np.asarray(self.x.evaluate(env), dtype=float)
        inside = np.ones(x.shape, dtype=bool)
        if env.get(self.low) is not None:
            inside &= x >= env[self.low]
        if env.get(self.high) is not None:
            inside &= x <= env[self.high]
        return inside.astype(float)


@dataclass(frozen=True, eq=False)
class ByAttribute(Expr):
    """The formula an attribute's value selects (GELU: exact, or the tanh approximation)."""

    attribute: str
    options: Mapping[str, Expr]
    precedence = 0

    def render(self, names: Names) -> str:
        return self.options[names[self.attribute]].render(names)

    def evaluate(self, env: Env) -> Any:
        return self.options[env[self.attribute]].evaluate(env)


# ----- the four kinds of derivative ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pointwise:
    """Elementwise: each output element depends on the same element of each (broadcast) input.

    `locals` maps an input port to ∂out/∂port per element. Losses read `N` (the count a mean divides by).
    """

    locals: Mapping[str, Expr]


@dataclass(frozen=True)
class Reduce:
    """A reduction: ∂out/∂x per input element, read with `out`, `mean`, `N` and `ties` expanded to x's shape."""

    local: Expr
    port: str = "input"


@dataclass(frozen=True)
class Route:
    """A shape op or copy: each output element is an input element moved, so each local derivative is 1."""

    what: str


@dataclass(frozen=True)
class MatrixForm:
    """One input's gradient in matrix form: the formula, the whole gradient, and one element's numbers."""

    formula: str
    gradient: Callable[[Env], np.ndarray]
    element: Callable[[Env, Names], str]


@dataclass(frozen=True)
class Matrix:
    """Ops whose Jacobian is not diagonal: the standard matrix form per input port."""

    forms: Mapping[str, MatrixForm]


# the variables every formula may use besides its ports and attributes
ONE = Num(1)
X, A, B, OUT, N = Var("input"), Var("a"), Var("b"), Var("out"), Var("N")
TARGET = Var("target")
