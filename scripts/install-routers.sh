#!/bin/sh
# Install the IGMP routers that `faultlab compare` runs against igmpd, from Debian's packages,
# without starting any of their daemons on the host.
#
#   igmpproxy, smcroute, frr   apt-get install (a policy-rc.d returning 101 keeps their
#                              services from starting while the packages are configured)
#   pimd                       conflicts with smcroute and frr in apt: the .deb is downloaded and
#                              unpacked into $FAULTLAB_PIMD_DIR (default /opt/faultlab/pimd); it
#                              needs only libc and runs from DIR/usr/sbin/pimd
#
# Idempotent: a router already present is left alone. Needs root. Prints what it did.
set -eu

PIMD_DIR="${FAULTLAB_PIMD_DIR:-/opt/faultlab/pimd}"
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

DAEMONS="igmpproxy smcrouted pimd zebra watchfrr mgmtd staticd"
BEFORE=" $(for d in $DAEMONS; do pgrep -x "$d" || true; done | tr '\n' ' ') "

missing=""
command -v igmpproxy >/dev/null 2>&1 || [ -x /usr/sbin/igmpproxy ] || missing="$missing igmpproxy"
[ -x /usr/sbin/smcrouted ] || missing="$missing smcroute"
[ -x /usr/lib/frr/zebra ] && [ -x /usr/lib/frr/pimd ] && [ -x /usr/bin/vtysh ] || missing="$missing frr"


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
    say "igmpproxy, smcroute and frr already installed"
fi

if [ ! -x "$PIMD_DIR/usr/sbin/pimd" ]; then
    say "unpacking pimd into $PIMD_DIR"
    apt_update
    tmp=$(mktemp -d)
    chmod 755 "$tmp"  # apt downloads as user _apt
    (cd "$tmp" && apt-get download -qq pimd)
    mkdir -p "$PIMD_DIR"
    dpkg-deb -x "$tmp"/pimd_*.deb "$PIMD_DIR"
    rm -rf "$tmp"
else
    say "pimd already unpacked in $PIMD_DIR"
fi

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
