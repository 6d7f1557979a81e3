"""SoniqueBay: a self-hosted music library for small hardware.

Plugin authors write ``from soniquebay import hookimpl, stage, Option``. Importing this package
has no side effects beyond defining the pluggy markers.
"""

from soniquebay.hookspecs import hookimpl, hookspec
from soniquebay.plugins.options import Option
from soniquebay.plugins.stages import stage

__version__ = "0.1.0"
__all__ = ["Option", "__version__", "hookimpl", "hookspec", "stage"]
