"""Optional plugins that ship disabled; enable one with ``[plugin.<name>] enabled = true``.

They double as examples for plugin authors.
"""
