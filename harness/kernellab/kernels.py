"""Which kernel a ``--kernel`` argument names, and its release string.

KERNEL is an image path (``/boot/vmlinuz-6.1.0-57-amd64``), a release installed under /boot
(``6.1.0-57-amd64``, also as a unique prefix such as ``6.1``), or ``host`` (the running kernel,
natively, no guest). The release is read from the image itself (the x86 boot header points at
the version string), so an image copied under another name still reports what it is: every
verdict names this release, and results land under ``<artifacts>/<release>/``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError

HOST = "host"
BOOT = Path("/boot")
_HEADER_MAGIC = b"HdrS"  # the x86 boot protocol header, at offset 0x202 of a bzImage
_VERSION_POINTER = 0x20E  # u16: kernel_version string offset, minus 0x200


@dataclass(frozen=True)
class Kernel:
    """A kernel to run scenarios on: ``image`` is None for the host's own (native) kernel."""

    spec: str
    release: str
    image: Path | None = None

    @property
    def native(self) -> bool:
        return self.image is None


def image_release(image: Path) -> str | None:
    """The release in a bzImage's header (``6.1.0-57-amd64``), or None when it has none."""
    try:
        with open(image, "rb") as stream:
            head = stream.read(0x10000)
    except OSError:
        return None
    if head[0x202:0x206] != _HEADER_MAGIC:
        return None
    offset = struct.unpack_from("<H", head, _VERSION_POINTER)[0] + 0x200
    text = head[offset : offset + 256].split(b"\0")[0].decode("ascii", "replace")
    return text.split()[0] if text.strip() else None


def installed(boot: Path = BOOT) -> dict[str, Path]:
    """Releases installed under /boot: ``{release: image}`` (vmlinuz-RELEASE files)."""
    return {
        path.name.removeprefix("vmlinuz-"): path
        for path in sorted(boot.glob("vmlinuz-*"))
        if path.is_file()
    }


def resolve(spec: str, boot: Path = BOOT) -> Kernel:
    """The kernel a ``--kernel`` argument names; InputError listing what exists otherwise."""
    if spec == HOST:
        return Kernel(spec, os.uname().release)
    path = Path(spec)
    if "/" in spec or path.is_file():
        return _from_image(spec, path)
    return _from_boot(spec, boot)


def _from_image(spec: str, path: Path) -> Kernel:
    if not path.is_file():
        raise InputError(f"--kernel {spec}: no such kernel image ({_choices(BOOT)})")
    release = image_release(path) or path.name.removeprefix("vmlinuz-")
    return Kernel(spec, release, path.resolve())


def _from_boot(spec: str, boot: Path) -> Kernel:
    images = installed(boot)
    if spec in images:
        return Kernel(spec, spec, images[spec])
    matches = [release for release in images if release.startswith(spec)]
    if len(matches) == 1:
        return Kernel(spec, matches[0], images[matches[0]])
    if matches:
        raise InputError(f"--kernel {spec}: ambiguous, matches {', '.join(matches)}")
    raise InputError(
        f"--kernel {spec}: not an image path nor a release under {boot} ({_choices(boot)})"
    )


def _choices(boot: Path) -> str:
    found = list(installed(boot))
    if not found:
        return f"nothing under {boot}; sudo scripts/install-kernel-lab.sh installs Debian's kernel"
    return "valid: host, " + ", ".join(found)


def newest_debian(boot: Path = BOOT) -> Kernel:
    """The newest Debian kernel under /boot (linux-image-amd64): what ``tox -e kernels`` boots."""
    found = [release for release in installed(boot) if release.endswith("-amd64")]
    if not found:
        raise InputError(f"no Debian kernel under {boot} (sudo scripts/install-kernel-lab.sh)")
    newest = max(found, key=_version_key)
    return Kernel(newest, newest, installed(boot)[newest])


def _version_key(release: str) -> tuple[int, ...]:
    digits = release.replace("-", ".").split(".")
    return tuple(int(part) for part in digits if part.isdigit())


def resolve_all(specs: list[str], boot: Path = BOOT) -> list[Kernel]:
    """Each ``--kernel`` resolved; InputError on a bad one or the same release twice."""
    kernels = [resolve(spec, boot) for spec in specs]
    releases = [kernel.release for kernel in kernels]
    twice = sorted({release for release in releases if releases.count(release) > 1})
    if twice:
        raise InputError(f"--kernel: release {', '.join(twice)} given twice")
    return kernels
