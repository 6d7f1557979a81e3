"""SoniqueBay: a self-hosted music library for small hardware.

Plugin authors write ``from soniquebay import hookimpl``. Importing this package has no side
effects beyond defining the two pluggy markers.
"""

from soniquebay.hookspecs import hookimpl, hookspec

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl", "hookspec"]
