"""Classic BPF socket filters (SO_ATTACH_FILTER), built with struct: the standard library only.

igmpd's multicast routing socket gets every IGMP packet Linux hands to the multicast router,
plus the kernel's upcalls. The filter here lets through only what no interface socket receives:
IGMP without IP options (so without Router Alert) to a destination outside 224.0.0.0/24. The
kernel runs it on the packet with the IPv4 header at offset 0 (raw sockets see the network
header), before the packet is queued, so everything else costs igmpd nothing.
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

KEEP_ALL = 0xFFFF  # bytes kept of an accepted packet (more than any IGMP message)
IGMP_NO_OPTIONS = 0x45  # version 4, header length 5 words: no IP options
LINK_LOCAL_NET, LINK_LOCAL_MASK = 0xE0000000, 0xFFFFFF00  # 224.0.0.0/24


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


def attach(sock: socket.socket, program: bytes) -> None:
    """Attach a classic BPF program (packed sock_filter instructions) to sock; OSError when the
    kernel refuses it. The kernel copies the program, so the buffer need not outlive the call."""
    if not program or len(program) % 8:
        raise ValueError(f"a BPF program is whole 8-byte instructions, got {len(program)} bytes")
    code = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
