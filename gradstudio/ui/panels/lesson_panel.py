"""The Lesson panel: a learner predicts each hidden value and gradient, presses Reveal, and sees the verdict,
the step that explains it and the score; the author switches between editing the lesson and playing it.

One row per hidden item, in evaluation order: the item's name and hint, a prediction field (Enter reveals),
Reveal, and after it the verdict. Rows are rebuilt only when the set of items or the mode changes, so what
the learner typed survives every other refresh.
"""

from __future__ import annotations

import json
import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

import gradstudio.engine as engine
from gradstudio.model.lesson import GRAD, KIND_TITLES, PredictionError
from gradstudio.model.lesson_play import Key, Verdict, format_array
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.text_limits import escaped, short_name
from gradstudio.ui.widgets.attribute_fields import ValuesField
from gradstudio.ui.workspace import Workspace

EMPTY = ("This graph hides nothing yet. To make a lesson, select a node and tick <b>Hide value</b> or "
         "<b>Hide gradient</b> in the inspector (or its context menu), then press <b>Play</b>.")
PLAY_HELP = ("Predict each hidden item: a number (<code>6</code>, <code>1/3</code>), a list "
             "(<code>[6, 6, 6]</code>, <code>[[1, 2], [3, 4]]</code>) or <code>None</code> when no gradient arrives. "
             "Enter or Reveal checks it.")
AUTHOR_HELP = "Author view: the hidden items with their answers. Press <b>Play</b> to try the lesson as a learner."
MAX_TABLE_CELLS = 64  # a table bigger than this is no help for typing a prediction
RIGHT_STYLE = "color: #2e7d32"
WRONG_STYLE = "color: #c62828"
MUTED_STYLE = "color: gray"


def item_name(key: Key) -> str:
    """The object-name suffix of one item's widgets: `n3_value`."""
    return f"{key[0]}_{key[1]}"


class LessonRow(QFrame):
    """One hidden item: what it is, the author's hint, the prediction field, Reveal and the verdict."""

    def __init__(self, panel: LessonDock, key: Key, title: str, hint: str, tolerance: str,
                 shape: tuple[int, ...] | None = None) -> None:
        super().__init__(panel.items)  # born inside the panel: a parentless row would be a window for a moment
        self.panel = panel
        self.key = key
        self.setObjectName(f"lessonItem_{item_name(key)}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"<b>{escaped(title)}</b>")
        self.title.setToolTip(f"Answers within {tolerance} count as right")
        self.hint = QLabel(f"<i>Hint: {escaped(hint)}</i>" if hint else "")
        self.hint.setWordWrap(True)
        self.prediction = QLineEdit()
        self.prediction.setObjectName(f"prediction_{item_name(key)}")
        self.prediction.setPlaceholderText("prediction")
        self.prediction.setMinimumWidth(120)
        self.prediction.returnPressed.connect(self.reveal)
        self.button = QPushButton("Reveal")
        self.button.setObjectName(f"reveal_{item_name(key)}")
        self.button.setToolTip("Check your prediction and show the answer (Enter)")
        self.button.clicked.connect(self.reveal)
        self.verdict = QLabel()
        self.verdict.setObjectName(f"verdict_{item_name(key)}")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        entry = QHBoxLayout()
        entry.addWidget(self.prediction, 1)
        self.cells: ValuesField | None = None
        self.shape = shape
        self.table_button: QPushButton | None = None
        if shape is not None and 1 < math.prod(shape) <= MAX_TABLE_CELLS:
            self.table_button = QPushButton("Table")
            self.table_button.setObjectName(f"table_{item_name(key)}")
            self.table_button.setCheckable(True)
            self.table_button.setToolTip(f"Type the prediction cell by cell, in a table of shape {list(shape)}")
            self.table_button.toggled.connect(self.show_cells)
            entry.addWidget(self.table_button)
        entry.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addLayout(entry)
        self.cells_box = QVBoxLayout()
        layout.addLayout(self.cells_box)
        layout.addWidget(self.verdict)
        # only now that they have a parent: showing a parentless label opens it as a window
        self.hint.setVisible(bool(hint))
        self.verdict.setVisible(False)

    def show_cells(self, shown: bool) -> None:
        """Show (made on first need) or hide the cell editor; its cells write the prediction as a nested list."""
        if shown and self.cells is None:
            self.cells = ValuesField(self.shape, "One cell per element; the prediction above follows the table")
            self.cells.setObjectName(f"cells_{item_name(self.key)}")
            self.cells.sync(())  # empty cells to type in
            self.cells.committed.connect(self._cells_entered)
            self.cells_box.addWidget(self.cells)
        if self.cells is not None:
            self.cells.setVisible(shown)

    def _cells_entered(self, values: tuple) -> None:
        count = math.prod(self.shape)
        if len(values) == count and all(isinstance(value, (int, float)) for value in values):
            text = json.dumps(np.asarray(values, dtype=np.float64).reshape(self.shape).tolist())
        else:
            text = f"[{', '.join(str(value) for value in values)}]"  # unfinished: Reveal will say what is missing
        self.prediction.setText(text)

    def reveal(self) -> None:
        """Check what is typed; an unreadable answer is refused under the field and nothing is revealed."""
        if not self.button.isEnabled():
            return
        try:
            self.panel.workspace.reveal(*self.key, self.prediction.text())
        except PredictionError as error:
            self.show_problem(str(error))

    def clear(self) -> None:
        """Empty the prediction and forget a refused one's problem (Restart)."""
        self.prediction.clear()
        self.verdict.clear()
        self.verdict.setStyleSheet("")
        self.verdict.setVisible(False)

    def show_problem(self, problem: str) -> None:
        """Say why the typed answer cannot be read."""
        self.verdict.setText(escaped(problem))
        self.verdict.setStyleSheet(WRONG_STYLE)
        self.verdict.setVisible(True)

    def show_verdict(self, verdict: Verdict | None, explanation: str) -> None:
        """Show the item as revealed (`verdict`) or still to predict (None)."""
        revealed = verdict is not None
        self.prediction.setReadOnly(revealed)
        self.button.setEnabled(not revealed)
        if self.table_button is not None:
            self.table_button.setEnabled(not revealed)
        if self.cells is not None:
            self.cells.setEnabled(not revealed)
        if not revealed:
            if self.verdict.styleSheet() != WRONG_STYLE:
                self.verdict.setVisible(False)
            return
        mark = {True: "✓ ", False: "✗ ", None: ""}[verdict.correct]
        style = {True: RIGHT_STYLE, False: WRONG_STYLE, None: ""}[verdict.correct]
        lines = escaped(explanation).replace("\n", "<br>")
        self.verdict.setText(f"<span style='{style}'><b>{mark}{escaped(verdict.message)}</b></span>"
                             + (f"<br><span>{lines}</span>" if lines else ""))
        self.verdict.setStyleSheet("")
        self.verdict.setVisible(True)

    def show_answer(self, answer: str) -> None:
        """The author's view: the item's true numbers, no field to type in."""
        self.prediction.setVisible(False)
        self.button.setVisible(False)
        if self.table_button is not None:  # typing a prediction cell by cell is the learner's
            self.table_button.setChecked(False)
            self.table_button.setVisible(False)
        self.verdict.setText(f"<span style='{MUTED_STYLE}'>answer: {escaped(answer)}</span>")
        self.verdict.setVisible(True)


class LessonDock(PanelDock):
    """The `lessonPanel` dock."""

    follows = ("values_changed", "backward_changed", "lesson_changed")

    # the panel's widgets, made when it is first shown or they are first asked for: the panel starts closed
    WIDGETS = frozenset({"play", "score", "reveal_all", "restart", "help", "list", "items"})

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Lesson", "lessonPanel", parent)
        self.rows: dict[Key, LessonRow] = {}
        self._layout_key: tuple | None = None
        self._built = False

    def __getattr__(self, name: str) -> object:
        # only for names not set yet: the panel's widgets, made on first use
        if name in LessonDock.WIDGETS and self.__dict__.get("_built") is False:
            self._build()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def setVisible(self, visible: bool) -> None:
        if visible and self.__dict__.get("_built") is False:
            self._build()  # before Qt lays the dock out and paints it
        super().setVisible(visible)

    def _build(self) -> None:
        self._built = True
        self.play = QPushButton("Play")
        self.play.setObjectName("lessonPlay")
        self.play.setCheckable(True)
        self.play.setToolTip("Play the lesson as a learner (hidden items show ?), or go back to authoring it")
        self.play.toggled.connect(self._set_playing)
        self.score = QLabel()
        self.score.setObjectName("lessonScore")
        self.score.setWordWrap(True)
        font = self.score.font()
        font.setBold(True)
        self.score.setFont(font)
        self.reveal_all = QPushButton("Reveal All")
        self.reveal_all.setObjectName("revealAll")
        self.reveal_all.setToolTip("Check every typed prediction and show every answer")
        self.reveal_all.clicked.connect(self.reveal_everything)
        self.restart = QPushButton("Restart")
        self.restart.setObjectName("lessonRestart")
        self.restart.setToolTip("Hide every item again and clear the score")
        self.restart.clicked.connect(self.restart_lesson)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.list = QVBoxLayout()
        self.items = QWidget()  # holds the rows
        self.setWidget(self._body())

    def _body(self) -> QWidget:
        top = QHBoxLayout()  # the score gets a line of its own: the panel shares the inspector's narrow column
        top.addWidget(self.play)
        top.addStretch(1)
        top.addWidget(self.reveal_all)
        top.addWidget(self.restart)
        items = self.items
        items.setLayout(self.list)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(items)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.score)
        layout.addWidget(self.help)
        layout.addWidget(scroll, 1)
        return body

    def bind(self, workspace: Workspace) -> None:
        """Follow `workspace`; its lesson starts in play mode when the file hides something."""
        self._layout_key = None
        self._drop_rows()  # another graph's predictions must not show up in this one's fields (ids repeat)
        super().bind(workspace)

    # ----- showing -----------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the rows if the items or the mode changed, then show each item's state and the score."""
        if self.workspace is None:
            return
        lesson = self.workspace.lesson
        items = lesson.items()
        layout_key = (tuple(items), lesson.playing,
                      tuple((lesson.hidden(key).hint, lesson.hidden(key).tolerance_text()) for key in items))
        if layout_key != self._layout_key:
            self._layout_key = layout_key
            self._build_rows(items)
        self.play.blockSignals(True)
        self.play.setChecked(lesson.playing)
        self.play.blockSignals(False)
        self.play.setText("Playing" if lesson.playing else "Play")
        self.reveal_all.setVisible(lesson.playing and bool(items))
        self.restart.setVisible(lesson.playing and bool(items))
        self.help.setText(EMPTY if not items else PLAY_HELP if lesson.playing else AUTHOR_HELP)
        score = lesson.score()
        self.score.setText(score.text if lesson.playing and items else
                           f"{len(items)} hidden item{'s' if len(items) != 1 else ''}" if items else "")
        for key, row in self.rows.items():
            if lesson.playing:
                verdict = lesson.verdicts.get(key)
                row.show_verdict(verdict, lesson.explain(*key) if verdict is not None and verdict.truth is not None
                                 else verdict.explanation if verdict is not None else "")
            else:
                truth, reason = lesson.truth(*key) if key[1] != GRAD or self.workspace.model.last_backward else \
                    (None, "run Backward to see it")
                row.show_answer(format_array(truth) if truth is not None else reason)

    def _build_rows(self, items: list[Key]) -> None:
        drafts = self._drop_rows()
        lesson = self.workspace.lesson
        for key in items:
            node = self.workspace.document.nodes[key[0]]
            name = short_name(node.name)
            title = f"{name}.grad" if key[1] == GRAD else f"{name} ({KIND_TITLES[key[1]]})"
            hidden = lesson.hidden(key)
            value = self.workspace.model.value(key[0])
            shape = tuple(value.shape) if isinstance(value, engine.Tensor) else None  # faces show shapes too
            row = LessonRow(self, key, title, hidden.hint, hidden.tolerance_text(), shape)
            row.prediction.setText(drafts.get(key, ""))
            self.list.addWidget(row)
            self.rows[key] = row

    def _drop_rows(self) -> dict[Key, str]:
        """Remove every row; what was typed in each, to keep across a rebuild of the same lesson."""
        drafts = {key: row.prediction.text() for key, row in self.rows.items()}
        for row in self.rows.values():
            # never setParent(None): a visible child without a parent becomes a window and takes the activation
            self.list.removeWidget(row)
            row.hide()
            row.deleteLater()
        self.rows = {}
        return drafts

    # ----- acting --------------------------------------------------------------------------------------------------

    def _set_playing(self, playing: bool) -> None:
        if self.workspace is not None:
            self.workspace.set_lesson_playing(playing)

    def restart_lesson(self) -> None:
        """Hide every item again, with empty prediction fields: a restarted learner starts from a blank page."""
        if self.workspace is not None:
            for row in self.rows.values():
                row.clear()
            self.workspace.restart_lesson()

    def reveal_everything(self) -> None:
        """Reveal every item still hidden, checking what was typed (an unreadable answer reveals without one)."""
        if self.workspace is not None and self.workspace.lesson.playing:
            self.workspace.reveal_all({key: row.prediction.text() for key, row in self.rows.items()})
