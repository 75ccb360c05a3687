#!/bin/sh
# The kernel lab's host side (docs/kernels.md): QEMU, Debian's stable kernel (linux-image-amd64),
# busybox (virtme-ng builds its initramfs with it) and virtme-ng (PyPI, the project's `vm` extra).
# Root, idempotent: installs only what is missing. Exit 77 when this machine cannot have the lab
# (not root, no apt-get, not x86_64), with the reason; `tox -e kernels` then skips.
#   PYTHON=.tox/kernels/bin/python sh scripts/install-kernel-lab.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
packages="qemu-system-x86 linux-image-amd64 busybox-static"

cannot() { echo "install-kernel-lab: this machine cannot have the kernel lab: $*" >&2; exit 77; }
[ "$(uname -m)" = x86_64 ] || cannot "not x86_64 ($(uname -m)); the lab boots amd64 kernels"
[ "$(id -u)" = 0 ] || cannot "not root (run: sudo sh scripts/install-kernel-lab.sh)"
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get (the lab uses Debian's packages)"

missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "install-kernel-lab: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
    echo "install-kernel-lab: Debian packages present ($packages)"
fi

if "$python" -c "import virtme_ng" 2>/dev/null; then
    echo "install-kernel-lab: virtme-ng present for $python"
else
    echo "install-kernel-lab: installing virtme-ng for $python (faultlab[vm])"
    "$python" -m pip install -q "$root[vm]"
fi
ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || { echo "install-kernel-lab: no kernel under /boot" >&2; exit 1; }
echo "install-kernel-lab: ready: $(ls /boot/vmlinuz-*-amd64 | tr '\n' ' ')"
