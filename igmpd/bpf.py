"""Classic BPF socket filters (SO_ATTACH_FILTER), built with struct: the standard library only.

igmpd's multicast routing socket gets every IGMP packet Linux hands to the multicast router,
plus the kernel's upcalls. UNALERTED_IGMP lets through only what no interface socket receives:
IGMP without IP options (so without Router Alert) to a destination outside 224.0.0.0/24.

Without multicast routing, each interface reads a packet socket (AF_PACKET, SOCK_DGRAM, bound
to ETH_P_IP on that interface) instead, which sees every IPv4 frame of the link before routing.
INCOMING_IGMP keeps IGMP that arrived from the link and drops the rest, including the frames
this host sends (PACKET_OUTGOING) or loops back to itself (PACKET_LOOPBACK).

Both run with the IPv4 header at offset 0 (raw sockets and SOCK_DGRAM packet sockets see the
network header), before the packet is queued, so everything else costs igmpd nothing.
DROP_ALL silences a socket that igmpd keeps only for sending.
"""

from __future__ import annotations

import ctypes
import socket
import struct

SO_ATTACH_FILTER = 26

# Instruction classes and modes (linux/filter.h, linux/bpf_common.h).
_LD_B_ABS = 0x30  # BPF_LD | BPF_B | BPF_ABS: A = the byte at k
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = the big-endian word at k
_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K: A &= k
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K: pc += (jt if A == k else jf)
_RET_K = 0x06  # BPF_RET | BPF_K: keep k bytes (0: drop)

_JGT_K = 0x25  # BPF_JMP | BPF_JGT | BPF_K: pc += (jt if A > k else jf)

KEEP_ALL = 0xFFFF  # bytes kept of an accepted packet (more than any IGMP message)
IGMP_NO_OPTIONS = 0x45  # version 4, header length 5 words: no IP options
LINK_LOCAL_NET, LINK_LOCAL_MASK = 0xE0000000, 0xFFFFFF00  # 224.0.0.0/24
SKF_AD_PKTTYPE = 0xFFFFF000 + 4  # SKF_AD_OFF + SKF_AD_PKTTYPE: the frame's sll_pkttype
PACKET_MULTICAST = 2  # PACKET_HOST 0, _BROADCAST 1, _MULTICAST 2; above: not from the link


def _insn(code: int, k: int = 0, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


DROP_ALL = _insn(_RET_K, 0)

#: IPv4, IGMP, no options, destination not in 224.0.0.0/24: kept; anything else (IGMP with
#: options, link-local groups, the kernel's IGMPMSG_* upcalls with protocol 0) dropped.
UNALERTED_IGMP = b"".join(
    (
        _insn(_LD_B_ABS, 9),  # 0: A = protocol
        _insn(_JEQ_K, socket.IPPROTO_IGMP, jt=0, jf=5),  # 1: not IGMP -> drop (7)
        _insn(_LD_B_ABS, 0),  # 2: A = version and header length
        _insn(_JEQ_K, IGMP_NO_OPTIONS, jt=0, jf=3),  # 3: IP options (Router Alert) -> drop
        _insn(_LD_W_ABS, 16),  # 4: A = destination
        _insn(_AND_K, LINK_LOCAL_MASK),  # 5
        _insn(_JEQ_K, LINK_LOCAL_NET, jt=0, jf=1),  # 6: 224.0.0.0/24 -> drop, else keep (8)
        _insn(_RET_K, 0),  # 7: drop
        _insn(_RET_K, KEEP_ALL),  # 8: keep
    )
)


#: IGMP received from the link (host, broadcast or multicast frames): kept; anything else
#: (another protocol, a frame for another host, this host's own outgoing or looped-back frames)
#: dropped. The packet socket is bound to ETH_P_IP, so every frame is IPv4.
INCOMING_IGMP = b"".join(
    (
        _insn(_LD_B_ABS, 9),  # 0: A = protocol
        _insn(_JEQ_K, socket.IPPROTO_IGMP, jt=0, jf=2),  # 1: not IGMP -> drop (4)
        _insn(_LD_W_ABS, SKF_AD_PKTTYPE),  # 2: A = packet type
        _insn(_JGT_K, PACKET_MULTICAST, jt=0, jf=1),  # 3: outgoing, loopback ... -> drop
        _insn(_RET_K, 0),  # 4: drop
        _insn(_RET_K, KEEP_ALL),  # 5: keep
    )
)


def attach(sock: socket.socket, program: bytes) -> None:
    """Attach a classic BPF program (packed sock_filter instructions) to sock; OSError when the
    kernel refuses it. The kernel copies the program, so the buffer need not outlive the call."""
    if not program or len(program) % 8:
        raise ValueError(f"a BPF program is whole 8-byte instructions, got {len(program)} bytes")
    code = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
