"""The event catalog, re-exported from the ``igmpcatalog`` package, where it lives.

The router (``igmpd``) imports ``igmpcatalog`` directly and never ``harness``; this module keeps
``from harness import catalog`` working for the harness and its tests.
"""

from igmpcatalog import *  # noqa: F403
from igmpcatalog import __all__ as __all__
