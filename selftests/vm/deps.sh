#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything `make check` needs on Debian 12: compilers, the
# headers of the emulated-host kernel, Bochs, QEMU and the tools that
# build the boot ISO and initramfs.
#
# Idempotent and fast when nothing is missing: every package is checked
# with dpkg first, and apt-get runs (update once, then install) only for
# the missing ones. Must run as root when something has to be installed
# (CI runs as root, without sudo).

set -euo pipefail

# The emulated-host kernel version is set in the top-level Makefile, which
# exports it. When this script is run by hand, read it from there.
if [[ -z "${HVX_HOST_KVER:-}" ]]; then
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	HVX_HOST_KVER=$(sed -n 's/^HVX_HOST_KVER[[:space:]]*:\?=[[:space:]]*//p' "$top/Makefile")
fi
if [[ -z "$HVX_HOST_KVER" ]]; then
	echo "deps.sh: HVX_HOST_KVER is not set and not found in the Makefile" >&2
	exit 1
fi

packages=(
	# building hvx.ko, the tools and the static test programs
	build-essential
	make
	sparse
	pkg-config
	libnl-3-dev
	libnl-genl-3-dev
	"linux-headers-$HVX_HOST_KVER"
	# Bochs 2.7 with VMX; the rfb display is built into the bochs
	# package, which needs one GUI plugin package (bochs-gui) to install.
	bochs
	bochs-x
	bochsbios
	vgabios
	# QEMU with intel-iommu and the edu device
	qemu-system-x86
	# boot media: ISOLINUX ISO for Bochs, initramfs for both
	isolinux
	syslinux-common
	xorriso
	busybox-static
	cpio
	gzip
	xz-utils
)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps.sh: all ${#packages[@]} packages present"
	exit 0
fi

echo "deps.sh: installing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: must run as root to install packages" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg (e.g. unattended-upgrades) instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

# Check again: apt-get can succeed without installing a requested package
# only in odd cases, but then the build would fail much later and less clearly.
still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if ((${#still[@]})); then
	echo "deps.sh: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps.sh: done"
