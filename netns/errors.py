"""The lab's exceptions. netns imports nothing from the harness: a caller maps these to its own
errors at its boundary (the harness does so in ``harness.errors.lab_boundary``).

    LabError                  base of every error netns raises on purpose
    +-- TopologyError         a topology description is wrong, or the kernel refused part of it
    |   +-- InvalidTopology   (netns.problems) every problem of a description, each naming its item
    +-- HostUnsupported       this host cannot build a lab (not root, cannot create namespaces)

``LabTerminated`` (netns.signals, SIGTERM while a lab is alive) is a KeyboardInterrupt-like
``BaseException``, not a LabError.
"""

from __future__ import annotations


class LabError(Exception):
    """Base of every error netns raises on purpose."""


class TopologyError(LabError):
    """A topology description is wrong; the message names the offending item."""


class HostUnsupported(LabError):
    """This host cannot build a lab at all (not root, no network namespaces)."""
