"""The event catalog, re-exported from the ``igmpcatalog`` package, where it lives.

The router (``igmpd``) imports ``igmpcatalog`` directly and never ``harness``; this module keeps
``from harness import catalog`` working for the harness and its tests. Beside the catalog's
events, a router profile names its own (``events: {cannot-join: ...}``): ``OWN_EVENT_PATTERN``
is what such a name looks like, for the profile's schema, the scenario's schema and its reader.
"""

from igmpcatalog import *  # noqa: F403
from igmpcatalog import __all__ as _catalog_names

#: A router profile's own event name: lowercase letters, digits and '-' (cannot-join).
OWN_EVENT_PATTERN = r"^[a-z][a-z0-9-]*$"

__all__ = [*_catalog_names, "OWN_EVENT_PATTERN"]
