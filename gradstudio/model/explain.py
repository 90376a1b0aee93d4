"""Plain-language explanations of PyTorch's autograd messages, each with the one-click fix that cures it.

One table: a pattern that PyTorch's exact text matches, a one-line explanation,
and the id of a fix (the UI maps fix ids to its actions). Qt-free, so the table
is tested without a display and could serve the command line too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# fix ids the UI knows how to perform
RETAIN_GRAD = "retain_grad"
SUPPLY_GRADIENT = "supply_gradient"
ZERO_GRAD = "zero_grad"
TURN_OFF_NO_GRAD = "turn_off_no_grad"
REQUIRE_GRAD = "require_grad"

FIX_LABELS = {
    RETAIN_GRAD: "Retain Grad",
    SUPPLY_GRADIENT: "Supply gradient…",
    ZERO_GRAD: "Zero Grad",
    TURN_OFF_NO_GRAD: "Turn off No Grad",
    REQUIRE_GRAD: "Set requires_grad",
}

NOT_REQUIRING_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
NON_LEAF_GRAD = "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"
GENERIC = "This could not run; the message above says what went wrong."


def accumulated_message(name: str, passes: int) -> str:
    """GradStudio's notice that `name.grad` now sums several backward passes (PyTorch says nothing)."""
    return f"{name}.grad accumulated: it now holds the sum of {passes} backward passes"


@dataclass(frozen=True)
class Rule:
    """One row of the table: what the message looks like, what it means, what fixes it."""

    pattern: str
    explanation: str
    fix: str | None = None


@dataclass(frozen=True)
class Explanation:
    """A message explained: PyTorch's text as is, the plain-language line, and the fix (id and label)."""

    message: str
    explanation: str
    fix: str | None = None

    @property
    def fix_label(self) -> str | None:
        """The button text of the fix, if there is one."""
        return FIX_LABELS.get(self.fix) if self.fix is not None else None


RULES: tuple[Rule, ...] = (
    Rule(re.escape(NOT_REQUIRING_GRAD),
         "Nothing recorded how this value was computed: no input requires grad, so there is no path back.",
         REQUIRE_GRAD),
    Rule(re.escape(NOT_SCALAR),
         "Backward without an argument starts from a single number; for a tensor, say how much each element "
         "counts by passing a gradient of the same shape.", SUPPLY_GRADIENT),
    Rule(re.escape(NON_LEAF_GRAD),
         "PyTorch keeps .grad only on leaves; the gradient flowed through this node but was not stored. "
         "retain_grad() keeps it.", RETAIN_GRAD),
    Rule(r"\.grad accumulated: it now holds the sum of \d+ backward passes",
         "Each backward adds into .grad instead of replacing it; clear it between passes with zero_grad().",
         ZERO_GRAD),
    Rule(r"Trying to backward through the graph a second time",
         "Backward frees the values it saved unless told to keep them (retain_graph=True)."),
    Rule(r"a leaf Variable that requires grad is being used in an in-place operation",
         "Changing a tracked leaf in place would make its gradient meaningless; change a copy, or do it "
         "under torch.no_grad()."),
    Rule(r"modified by an inplace operation",
         "A value saved for backward was overwritten afterwards, so its gradient can no longer be computed."),
    Rule(r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\)",
         "These shapes cannot be broadcast together: matching dimensions must be equal, or one of them 1."),
    Rule(r"mat1 and mat2 shapes cannot be multiplied",
         "For a matrix product the columns of the left matrix must equal the rows of the right one."),
    Rule(r"Mismatch in shape: grad_output",
         "The gradient passed to backward must have exactly the shape of the tensor backward starts from."),
    Rule(r"(?i)only Tensors of floating point( and complex)? dtype can require gradients",
         "Gradients need real numbers: make the tensor float32 or float64 before asking for requires_grad."),
)


def explain(message: str, no_grad: bool = False, cut_by_region: str | None = None) -> Explanation:
    """The explanation of `message` (the first rule that matches); a generic line when none does.

    Under `torch.no_grad()` the cure for a missing grad_fn is to leave no-grad mode, not to set requires_grad; when
    a no-grad frame cut the path (`cut_by_region` says which node, `grad_regions.untracked_by_region`), it is to
    take that node out of the frame.
    """
    for rule in RULES:
        if re.search(rule.pattern, message):
            fix = TURN_OFF_NO_GRAD if no_grad and rule.fix == REQUIRE_GRAD else rule.fix
            explanation = rule.explanation
            if no_grad and rule.fix == REQUIRE_GRAD:
                explanation = "The graph runs under torch.no_grad(), so no operation was recorded to go back through."
            elif cut_by_region and rule.fix == REQUIRE_GRAD:
                fix = None
                explanation = (f"{cut_by_region}, so no operation was recorded to go back through. Drag it out "
                               "of the frame, or set the frame's Grad Mode (its context menu) to Plain frame.")
            return Explanation(message, explanation, fix)
    return Explanation(message, GENERIC)
