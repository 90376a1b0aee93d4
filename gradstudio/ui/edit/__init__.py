"""Editing: gestures into undoable commands, selection commands, the clipboard and context menus."""
