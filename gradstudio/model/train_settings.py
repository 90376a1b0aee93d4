"""What a training run is asked to do (`TrainSettings`), and its record in a `.gsg` file.

The settings are a frozen value: the document keeps them (with the last run's
loss history) as a setting, so they are changed by `SetSetting` edits, undone like
any other edit, and saved with the graph. `from_record` checks a file's record
key by key and names the key at fault.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

OPTIMISERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine")
MAX_STEPS = 1_000_000


class TrainSettingsError(ValueError):
    """A training setting out of range; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class TrainSettings:
    """The loss node, the parameters (None: every leaf with requires_grad), the optimiser, schedule and batches."""

    loss: str | None = None
    parameters: tuple[str, ...] | None = None
    optimiser: str = "adam"
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_size: int = 100
    gamma: float = 0.1
    eta_min: float = 0.0
    steps: int = 500
    batch_size: int | None = None
    seed: int = 0

    def checked(self) -> TrainSettings:
        """These settings, or TrainSettingsError naming the first one out of range."""
        if self.optimiser not in OPTIMISERS:
            raise TrainSettingsError("optimiser", f"expected one of {', '.join(OPTIMISERS)}, got {self.optimiser!r}")
        if self.schedule not in SCHEDULES:
            raise TrainSettingsError("schedule", f"expected one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        for name in ("lr", "momentum", "eps", "weight_decay", "eta_min", "gamma", "alpha"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise TrainSettingsError(name, f"expected a finite number >= 0, got {value!r}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise TrainSettingsError(name, f"expected a number in [0, 1), got {getattr(self, name)!r}")
        if self.nesterov and (self.optimiser != "sgd" or self.momentum <= 0):
            raise TrainSettingsError("nesterov", "Nesterov momentum needs SGD with a momentum above 0")
        if not 1 <= self.steps <= MAX_STEPS:
            raise TrainSettingsError("steps", f"expected 1 to {MAX_STEPS} steps, got {self.steps}")
        if self.step_size < 1:
            raise TrainSettingsError("step_size", f"expected at least 1, got {self.step_size}")
        if self.batch_size is not None and self.batch_size < 1:
            raise TrainSettingsError("batch_size", f"expected at least 1 (or none: the full data), got "
                                                   f"{self.batch_size}")
        return self

    def record(self) -> dict[str, Any]:
        """The settings as plain JSON values, in a fixed key order."""
        data = asdict(self)
        if self.parameters is not None:
            data["parameters"] = list(self.parameters)
        return data


_TYPES = {"loss": (str, type(None)), "optimiser": str, "schedule": str, "nesterov": bool,
          "step_size": int, "steps": int, "batch_size": (int, type(None)), "seed": int}


def from_record(raw: Any) -> TrainSettings:
    """Settings from a file record (missing keys take their defaults); TrainSettingsError naming the bad key."""
    if not isinstance(raw, dict):
        raise TrainSettingsError("", "expected an object")
    names = [field.name for field in fields(TrainSettings)]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in names:
            raise TrainSettingsError(key, f"unexpected key; expected only {', '.join(names)}")
        if key == "parameters":
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                raise TrainSettingsError(key, "expected null or an array of node ids")
            values[key] = tuple(value) if value is not None else None
            continue
        expected = _TYPES.get(key, (int, float))
        if isinstance(value, bool) and expected is not bool:
            raise TrainSettingsError(key, f"expected {_describe(expected)}, got {value!r}")
        if not isinstance(value, expected):
            raise TrainSettingsError(key, f"expected {_describe(expected)}, got {value!r}")
        values[key] = float(value) if expected == (int, float) else value
    return TrainSettings(**values).checked()


def _describe(expected: Any) -> str:
    return {str: "a string", bool: "true or false", int: "an integer", (int, float): "a number",
            (str, type(None)): "a node id or null", (int, type(None)): "an integer or null"}[expected]


def history_record(history: tuple[float, ...]) -> list[float | None]:
    """A loss history for JSON: a non-finite loss (a diverged run) as null."""
    return [value if math.isfinite(value) else None for value in history]


def checked_setting(name: str, value: Any) -> Any:
    """A document setting's new value checked: `training` is TrainSettings or None; `loss_history` floats."""
    if name == "training" and value is not None:
        if not isinstance(value, TrainSettings):
            raise TrainSettingsError(name, f"expected TrainSettings, got {type(value).__name__}")
        return value.checked()
    if name == "loss_history":
        try:
            return tuple(float(item) for item in value)
        except (TypeError, ValueError):
            raise TrainSettingsError(name, "expected a list of numbers") from None
    return value
