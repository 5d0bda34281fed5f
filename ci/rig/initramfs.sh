#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the rig's initramfs: busybox-static, the CAN/USB-serial kernel modules,
# the static binaries, the live scenarios, tests.sh and an /init that runs them.
# usage: ci/rig/initramfs.sh SRC_DIR KERNEL_ROOT BIN_DIR OUT.cpio.gz
#   KERNEL_ROOT: the linux-image package unpacked with dpkg -x
#   BIN_DIR:     holds static bmsbench, bms-gateway, rig-canup (build-static.sh)
set -eu

[ $# -eq 4 ] || { echo "usage: $0 SRC_DIR KERNEL_ROOT BIN_DIR OUT.cpio.gz" >&2; exit 2; }
src=$1 kroot=$2 bindir=$3 out=$4

# Load order matters: each module after the ones it needs (no modprobe here).
MODULES="net/can/can.ko net/can/can-raw.ko drivers/net/can/dev/can-dev.ko drivers/net/can/vcan.ko
drivers/net/can/sja1000/sja1000.ko drivers/net/can/sja1000/kvaser_pci.ko
drivers/usb/common/usb-common.ko drivers/usb/core/usbcore.ko drivers/usb/host/xhci-hcd.ko
drivers/usb/host/xhci-pci.ko drivers/usb/serial/usbserial.ko drivers/usb/serial/ftdi_sio.ko"

busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" 2>&1 | head -n 1 | grep -q BusyBox ||
    { echo "initramfs: no busybox at $busybox (apt-get install busybox-static)" >&2; exit 1; }
if file "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
    echo "initramfs: $busybox is dynamically linked (install busybox-static)" >&2
    exit 1
fi
command -v cpio >/dev/null || { echo "initramfs: cpio missing (apt-get install cpio)" >&2; exit 1; }
moddir=$(ls -d "$kroot"/lib/modules/*/kernel 2>/dev/null | head -n 1)
[ -n "$moddir" ] || { echo "initramfs: no lib/modules/*/kernel under $kroot" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/rig-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/rig/modules" \
         "$root/scenarios/live"
cp "$busybox" "$root/bin/busybox"
for b in bmsbench bms-gateway rig-canup; do
    [ -x "$bindir/$b" ] || { echo "initramfs: $bindir/$b missing (run build-static.sh)" >&2; exit 1; }
    # Debug info is most of their size and of no use in the VM.
    strip -o "$root/bin/$b" "$bindir/$b" 2>/dev/null || cp "$bindir/$b" "$root/bin/$b"
done
: >"$root/rig/modules.list"
for m in $MODULES; do
    [ -f "$moddir/$m" ] || { echo "initramfs: module $m missing under $moddir" >&2; exit 1; }
    cp "$moddir/$m" "$root/rig/modules/"
    basename "$m" >>"$root/rig/modules.list"
done
cp "$src"/scenarios/live/*.yaml "$root/scenarios/live/"
cp "$src/ci/rig/tests.sh" "$root/rig/tests.sh"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# The rig VM's PID 1: modules, interfaces, tests.sh, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmp /tmp
dmesg -n 1
echo "@@RIG@@ BOOTED $(cat /proc/uptime)"
for m in $(cat /rig/modules.list); do
    insmod "/rig/modules/$m" || echo "rig: insmod $m failed"
done
ip link set lo up
ip link add dev vcan0 type vcan && ip link set vcan0 up || echo "rig: cannot set up vcan0"
# USB enumeration and the PCI CAN cards take a moment after insmod.
i=0
while [ $i -lt 50 ]; do
    [ -e /dev/ttyUSB1 ] && [ -d /sys/class/net/can1 ] && break
    sleep 0.2
    i=$((i + 1))
done
# can0 and can1 get their bitrate through libsocketcan from the programs themselves.
sh /rig/tests.sh
sync
poweroff -f
EOF
chmod +x "$root/init" "$root/rig/tests.sh"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
