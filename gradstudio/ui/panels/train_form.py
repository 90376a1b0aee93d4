"""The Train panel's settings form: loss, parameters, optimiser, schedule, steps and batches as `TrainSettings`.

The form is a draft: it shows the document's saved training settings (or the
defaults, with the backward target as the loss) and turns into `TrainSettings`
when a run starts; the run's one undoable edit stores what it used.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from gradstudio.model.document import GraphDocument
from gradstudio.model.train_settings import MAX_STEPS, OPTIMISERS, SCHEDULES, TrainSettings
from gradstudio.model.training import default_parameters

OPTIMISER_TITLES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}
# which optimiser reads which setting (the others are hidden)
READS = {"momentum": ("sgd", "rmsprop"), "nesterov": ("sgd",), "beta1": ("adam", "adamw"), "beta2": ("adam", "adamw"),
         "alpha": ("rmsprop",)}


def _number(minimum: float, maximum: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


def _integer(minimum: int, maximum: int, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    if special:
        box.setSpecialValueText(special)
    return box


class TrainForm(QWidget):
    """Widgets for every training setting; `settings()` reads them, `show_settings()` fills them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss = QComboBox(objectName="trainLoss")
        self.parameters = QListWidget(objectName="trainParameters")
        self.parameters.setMaximumHeight(90)
        self.optimiser = QComboBox(objectName="trainOptimiser")
        for name in OPTIMISERS:
            self.optimiser.addItem(OPTIMISER_TITLES[name], name)
        self.lr = _number(0.0, 100.0, 6, 0.001)
        self.momentum = _number(0.0, 0.999, 3, 0.1)
        self.nesterov = QCheckBox("Nesterov")
        self.beta1 = _number(0.0, 0.999, 3, 0.01)
        self.beta2 = _number(0.0, 0.9999, 4, 0.001)
        self.alpha = _number(0.0, 0.9999, 4, 0.01)
        self.weight_decay = _number(0.0, 10.0, 4, 0.001)
        self.schedule = QComboBox(objectName="trainSchedule")
        for name in SCHEDULES:
            self.schedule.addItem(name.capitalize(), name)
        self.step_size = _integer(1, MAX_STEPS)
        self.gamma = _number(0.0, 1.0, 3, 0.05)
        self.steps = _integer(1, MAX_STEPS)
        self.steps.setObjectName("trainSteps")
        self.batch = _integer(0, 10**8, "full data")
        self.seed = _integer(0, 2**31 - 1)
        layout = QFormLayout(self)
        self.rows = {}
        for label, widget in (("Loss", self.loss), ("Parameters", self.parameters), ("Optimiser", self.optimiser),
                              ("Learning rate", self.lr), ("Momentum", self.momentum), ("", self.nesterov),
                              ("Beta 1", self.beta1), ("Beta 2", self.beta2), ("Alpha", self.alpha),
                              ("Weight decay", self.weight_decay), ("Schedule", self.schedule),
                              ("Step size", self.step_size), ("Gamma", self.gamma), ("Steps", self.steps),
                              ("Batch size", self.batch), ("Shuffle seed", self.seed)):
            layout.addRow(label, widget)
            self.rows[widget] = label
        self.optimiser.currentIndexChanged.connect(self._show_relevant)
        self.schedule.currentIndexChanged.connect(self._show_relevant)
        self.show_settings(None, TrainSettings())

    def _show_relevant(self) -> None:
        layout: QFormLayout = self.layout()
        optimiser = self.optimiser.currentData()
        for name, readers in READS.items():
            layout.setRowVisible(getattr(self, name), optimiser in readers)
        step = self.schedule.currentData() == "step"
        layout.setRowVisible(self.step_size, step)
        layout.setRowVisible(self.gamma, step)

    def show_settings(self, document: GraphDocument | None, settings: TrainSettings) -> None:
        """Fill the form from `settings`, listing the document's candidate losses and parameters."""
        self.loss.clear()
        self.parameters.clear()
        if document is not None:
            for node_id, node in document.nodes.items():
                if node.input_ports():
                    self.loss.addItem(node.name, node_id)
            chosen = settings.parameters
            for node_id in default_parameters(document, None):
                item = QListWidgetItem(document.nodes[node_id].name)
                item.setData(Qt.ItemDataRole.UserRole, node_id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = chosen is None or node_id in chosen
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.parameters.addItem(item)
            loss = settings.loss or document.settings.backward_target
            if loss is not None and self.loss.findData(loss) >= 0:
                self.loss.setCurrentIndex(self.loss.findData(loss))
        self.optimiser.setCurrentIndex(self.optimiser.findData(settings.optimiser))
        self.schedule.setCurrentIndex(self.schedule.findData(settings.schedule))
        for name in ("lr", "momentum", "beta1", "beta2", "alpha", "weight_decay", "gamma"):
            getattr(self, name).setValue(getattr(settings, name))
        self.nesterov.setChecked(settings.nesterov)
        self.step_size.setValue(settings.step_size)
        self.steps.setValue(settings.steps)
        self.batch.setValue(settings.batch_size or 0)
        self.seed.setValue(settings.seed)
        self._show_relevant()

    def settings(self, base: TrainSettings | None = None) -> TrainSettings:
        """The settings the form shows (`eps`, `eta_min` kept from `base`)."""
        items = [self.parameters.item(row) for row in range(self.parameters.count())]
        checked = [item.data(Qt.ItemDataRole.UserRole) for item in items
                   if item.checkState() == Qt.CheckState.Checked]
        parameters = None if len(checked) == len(items) else tuple(checked)
        base = base or TrainSettings()
        optimiser = self.optimiser.currentData()
        return TrainSettings(
            loss=self.loss.currentData(), parameters=parameters, optimiser=optimiser, lr=self.lr.value(),
            momentum=self.momentum.value() if optimiser in READS["momentum"] else 0.0,
            nesterov=self.nesterov.isChecked() and optimiser == "sgd", beta1=self.beta1.value(),
            beta2=self.beta2.value(), alpha=self.alpha.value(), eps=base.eps, weight_decay=self.weight_decay.value(),
            schedule=self.schedule.currentData(), step_size=self.step_size.value(), gamma=self.gamma.value(),
            eta_min=base.eta_min, steps=self.steps.value(), batch_size=self.batch.value() or None,
            seed=self.seed.value())
