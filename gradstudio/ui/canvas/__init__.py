"""The node-editor canvas: scene, view, graphics items, wiring, quick add and overview."""
