"""The multicast-routing socket options of linux/mroute.h, which Python's ``socket`` lacks.

The harness's one copy (the doctor's probe, the fault engine, the probe program); igmpd keeps
its own, since the router must not import the test harness.
"""

from __future__ import annotations

MRT_INIT = 200
MRT_DONE = 201
MRT_ADD_VIF = 202
MRT_DEL_VIF = 203
MRT_OPTIONS = frozenset({MRT_INIT, MRT_DONE, MRT_ADD_VIF, MRT_DEL_VIF})
