"""The ops, one module per family, each gradient rule beside its forward."""
