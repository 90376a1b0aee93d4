"""Every attribute kind's widget role has a field in the inspector, with the kind's placeholder."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit
from ui_helpers import add_node

from gradstudio.model.attribute_kinds import KINDS, placeholder, widget_role
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import GraphDocument
from gradstudio.ui.panels.inspector import FIELDS, InspectorDock, visible_attributes


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kinds_widget_role_maps_to_a_field(name: str) -> None:
    assert KINDS[name].widget in FIELDS


@pytest.mark.parametrize("kind", sorted(CATALOG))
def test_the_inspector_builds_each_attribute_from_its_kind(qtbot: Any, kind: str) -> None:
    document = GraphDocument()
    add_node(document, "node", kind, (0, 0))
    node = document.nodes["node"]
    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.show_node(node, None)
    shown = visible_attributes(node)
    assert [spec for spec in node.spec.attributes if spec not in shown] == [
        spec for spec in node.spec.attributes if not spec.applies(node.attributes) or widget_role(spec) == "table"]
    for spec in shown:
        field = dock.fields[spec.name]
        assert type(field) is type(FIELDS[widget_role(spec)](spec, "", ""))
        if isinstance(field.editor, QLineEdit):
            assert field.editor.placeholderText() == placeholder(spec)
