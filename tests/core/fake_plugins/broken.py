"""A plugin that cannot be imported: a block-listed plugin must never be loaded."""

raise ImportError("the broken test plugin was imported")
