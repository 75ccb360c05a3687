"""Scenario texts the tests share.

Tests write them to ``tmp_path`` at run time: YAML files under a ``scenarios`` folder would be
collected as scenarios by the plugin.
"""

from __future__ import annotations

#: r1 with e0 towards h1 and e1 towards h2: the standard shape of the matrix.
TWO_LINKS = """\
topology:
  nodes: [r1, h1, h2]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
    - {a: "r1:e1 10.0.2.1/24", b: "h2:e0 10.0.2.2/24"}
"""

#: A small complete scenario (3 nodes, one fault, two expected events): about 0.5 s to run.
MRT_HELD = (
    """\
name: a second multicast router holds the MRT socket
description: Another process did MRT_INIT first; igmpd cannot request multicasting anywhere.
tags: [bind-conflicts]
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  version: 3
  query_interval: 0.5
  query_response_interval: 0.2
faults:
  - kind: mrt-held
expect:
  events:
    - {id: 41028, errno: EADDRINUSE, interface: e0, within: 2s}
    - {id: 41055, interface: e0, within: 2s}
  order: [41028, 41055]
"""
)

#: The same shape on any kernel (no multicast routing needed): igmpd's first raw IGMP socket is
#: refused by the seccomp supervisor, e0 fails with 41024, e1 runs. About 0.5 s to run.
CREATE_SOCKET_REFUSED = (
    """\
name: the first raw IGMP socket is refused
description: The seccomp supervisor fails igmpd's first socket() with ENOBUFS; e0 fails, e1 runs.
tags: [exact-errors]
"""
    + TWO_LINKS
    + """\
router:
  node: r1
  interfaces: [e0, e1]
  version: 3
  query_interval: 0.5
  query_response_interval: 0.2
faults:
  - {kind: step-error, step: create_socket, errno: ENOBUFS, nth: 1}
expect:
  # within: a bound on how long a broken build makes the test wait, not a speed claim: the
  # router's own start counts in it (2 s was too little on a loaded 2-core runner, uid 65534)
  events:
    - {id: 41024, errno: ENOBUFS, interface: e0, within: 10s}
    - {id: 41055, interface: e0, within: 10s}
  order: [41024, 41055]
"""
)
