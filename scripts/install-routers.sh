#!/bin/sh
# Install the IGMP routers that `faultlab compare` runs against igmpd, from Debian's packages,
# without starting any of their daemons on the host.
#
# The routers come from the registry, never from a list here: `python -m harness.routers
# --missing` prints each packaged router whose programs the doctor would not find (kind,
# package, how, programs), and this script installs exactly those:
#
#   apt      apt-get install (a policy-rc.d returning 101 keeps their services from starting
#            while the packages are configured)
#   unpack   a package that conflicts with others in apt (pimd: with smcroute and frr): the .deb
#            is downloaded and unpacked into $FAULTLAB_PIMD_DIR (default /opt/faultlab/pimd); it
#            needs only libc and runs from DIR/usr/sbin
#
# $FAULTLAB_PYTHON is the Python that has faultlab's dependencies (default: python3; CI and tox
# pass their environment's). Idempotent: a router already present is left alone. Needs root.
# Prints what it did.
set -eu

PYTHON="${FAULTLAB_PYTHON:-python3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
UNPACK_DIR="${FAULTLAB_PIMD_DIR:-/opt/faultlab/pimd}"  # harness.routers.external.PIMD_DIR
POLICY=/usr/sbin/policy-rc.d
OUR_POLICY=""

say() { printf 'install-routers: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    say "needs root (apt-get install); skipping: routers missing from the machine are skipped"
    exit 0
fi

cleanup() {
    if [ -n "$OUR_POLICY" ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT INT TERM

# Keep package scripts from starting daemons on the host (invoke-rc.d asks policy-rc.d first).
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    OUR_POLICY=yes
fi

routers() { (cd "$ROOT" && "$PYTHON" -m harness.routers "$@"); }

# The routers' own programs, and the daemons FRR's package starts beside them.
DAEMONS="$(routers --programs | tr '\n' ' ')watchfrr mgmtd staticd"
BEFORE=" $(for d in $DAEMONS; do pgrep -x "$d" || true; done | tr '\n' ' ') "

TAB="$(printf '\t')"
TODO="$(routers --missing)"
missing=""
unpack=""
while IFS="$TAB" read -r kind package how programs; do
    case "$how" in
        apt) missing="$missing $package" ;;
        unpack) unpack="$unpack $package" ;;
    esac
done <<EOF_TODO
$TODO
EOF_TODO


updated=""
apt_update() {
    if [ -z "$updated" ]; then
        apt-get update -qq
        updated=yes
    fi
}

if [ -n "$missing" ]; then
    say "installing:$missing"
    apt_update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
    say "the apt-installed routers are already installed"
fi

for package in $unpack; do
    say "unpacking $package into $UNPACK_DIR"
    apt_update
    tmp=$(mktemp -d)
    chmod 755 "$tmp"  # apt downloads as user _apt
    (cd "$tmp" && apt-get download -qq "$package")
    mkdir -p "$UNPACK_DIR"
    dpkg-deb -x "$tmp"/"$package"_*.deb "$UNPACK_DIR"
    rm -rf "$tmp"
done
[ -n "$unpack" ] || say "the unpacked routers are already in $UNPACK_DIR"

# Never leave a router daemon running on the host: a daemon that appeared during this install
# (a package that started its service despite policy-rc.d) is stopped by its pid; one that was
# running before is somebody else's and only reported.
for daemon in $DAEMONS; do
    for pid in $(pgrep -x "$daemon" || true); do
        case " $BEFORE " in
            *" $pid "*) say "note: $daemon (pid $pid) was already running before this install" ;;
            *) say "stopping $daemon (pid $pid), started on the host by its package"
               kill "$pid" 2>/dev/null || true ;;
        esac
    done
done
say "done"
