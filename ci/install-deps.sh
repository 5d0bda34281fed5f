#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages bmsbench needs to build and test.
# Idempotent and quiet when everything is present; uses sudo when not root.
set -eu

PKGS="build-essential cmake pkg-config libcmocka-dev libyaml-dev python3 gcc-arm-none-eabi libnewlib-arm-none-eabi gcovr
      python3-can can-utils tshark libserialport-dev libsocketcan-dev
      libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core xvfb xauth xdotool
      qemu-system-x86 busybox-static cpio socat"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 1
    fi
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark (wireshark-common) would otherwise ask whether non-root users may capture.
case " $missing " in
*" tshark "*)
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    ;;
esac
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
