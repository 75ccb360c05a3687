#!/usr/bin/env python3
"""A stand-in for vng: no kernel, no qemu, the same process shape and console behaviour.

Like vng it starts a "qemu" grandchild (here in a session of its own, ignoring SIGTERM: the
worst case for cleanup). The mode per accelerator comes from FAKE_VNG_KVM / FAKE_VNG_TCG:
``boot`` prints the guest's up marker and exits 0; ``stall`` prints it and never ends;
``hang`` prints a boot line and never ends (the nested-PVM KVM case); ``abort`` exits 1 at once
(qemu's KVM MSR assertion). Every process carries FAKE_QEMU_TAG in its environment.
"""

import os
import signal
import subprocess
import sys

QEMU = r"""
import signal, sys, threading
signal.signal(signal.SIGTERM, signal.SIG_IGN)
mode = sys.argv[1]
print("fake-qemu: booting", flush=True)
if mode in ("boot", "stall"):
    print("faultlab-guest: up 9.9.9-fake", flush=True)
if mode == "boot":
    print("fake-guest: done", flush=True)
    sys.exit(0)
threading.Event().wait()
"""

mode = os.environ.get("FAKE_VNG_TCG" if "--disable-kvm" in sys.argv else "FAKE_VNG_KVM", "boot")
if mode == "abort":
    print("qemu-system-x86_64: error: failed to set MSR 0x10a", flush=True)
    sys.exit(1)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
child = subprocess.Popen([sys.executable, "-c", QEMU, mode], start_new_session=True)
sys.exit(child.wait())
