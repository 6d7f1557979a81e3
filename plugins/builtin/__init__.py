"""Plugins that ship enabled. Each module is one concern, written against ``soniquebay.hookspecs``."""
