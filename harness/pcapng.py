"""One pcapng per scenario that carries the story: every link, and why a packet matters.

The runner keeps one classic pcap per link endpoint. A Wireshark user opening a failed
scenario wants them together, each frame on its own interface (an Interface Description Block
named ``node:ifname``), and the frames an expectation judged marked with a comment naming the
expectation, its line in the scenario file and whether it held: the same evidence the HTML
report shows. Written with scapy's ``PcapNgWriter`` (a packet's ``sniffed_on`` becomes its
interface block, ``comments`` its EPB comments).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

PCAPNG_NAME = "capture.pcapng"
IGMP_QUERY = 0x11


def used_by(window: Any, on: str, ms: float | None, igmp: Any) -> bool:
    """Whether a packet is one that packet expectation ``window`` judged: on its endpoint, of
    its kind (general/group/any query, its group), inside its window."""
    if window.packets_on != on or igmp is None or ms is None or window.start is None:
        return False
    if ms < window.start or (window.end is not None and ms > window.end):
        return False
    if igmp.type != IGMP_QUERY:
        return False
    general = igmp.group == "0.0.0.0"
    if window.query == "general":
        return general
    if window.query == "group":
        return not general and window.group in (None, igmp.group)
    return True


def comments_for(view: Any, packet: Any) -> list[str]:
    """The comment lines for one packet: each packet expectation that used it."""
    ms = view.packet_ms(packet)
    lines = []
    for window in view.windows:
        if used_by(window, packet.on, ms, packet.igmp):
            where = f"{view.row.path}:{window.line}" if window.line else view.row.path
            verdict = "held" if window.passed else "FAILED"
            lines.append(f"faultlab: {window.description} [{where}]: {verdict}")
    return lines


def write_story(view: Any, folder: Path | None = None) -> Path | None:
    """``capture.pcapng`` in the scenario's folder (None when it has no captured frame)."""
    folder = folder or view.folder
    if folder is None or not view.packets:
        return None
    return write(folder / PCAPNG_NAME, view.packets, lambda p: comments_for(view, p))


def write(path: Path, packets: Sequence[Any], comments: Any = lambda packet: []) -> Path:
    """Frames (``on``, ``wall``, ``data``) as pcapng, one interface block per endpoint."""
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapNgWriter

    writer = PcapNgWriter(str(path))
    try:
        for packet in packets:
            frame = Ether(packet.data)
            frame.time = packet.wall
            frame.sniffed_on = packet.on
            notes = comments(packet)
            if notes:
                frame.comments = [note.encode() for note in notes]
            writer.write(frame)
    finally:
        writer.close()
    return path
