"""The kernel lab: the same scenarios on another kernel, in a virtme-ng guest.

``faultlab run --kernel KERNEL`` boots a guest per kernel (the host's root file system shared
read-only, the checkout and the artifacts folder writable, root inside), runs the selected
scenarios there with the same options, and brings verdicts, JUnit and artifacts back under
``<artifacts>/<kernel release>/``. Why a guest: the host's kernel decides what a scenario can test
(multicast routing, per-namespace sysctls, IGMP behaviour), and a QA team wants the kernel it
ships, not the one its CI runner boots.

Modules, one concern each:

    kernels.py   KERNEL (image path, version under /boot, ``host``) -> Kernel (image, release)
    stretch.py   the stretch factor: a small benchmark, on the host and in the guest
    guard.py     the process that owns vng/qemu on the host and kills them when faultlab dies
    launcher.py  boots a guest with deadlines, KVM first then emulation, console tail on failure
    guest.py     the entry point inside the guest: artifacts on tmpfs, copied back at the end
    stamp.py     names the kernel release in verdicts, JUnit and the fault matrix
    table.py     the kernel x scenario table (Markdown and HTML), differing verdicts marked
    commands.py  ``faultlab run/doctor/compare --kernel``: the CLI's hand-off
    ci.py        ``tox -e kernels``: install the lab, run the suite and the mrt tests in a guest
"""
