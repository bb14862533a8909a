#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything `make check` needs on Debian 12: compilers, the
# headers of the emulated-host kernel, Bochs, QEMU and the tools that
# build the boot ISO and initramfs.
#
# Only missing packages are installed (apt-install.sh), as root.

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
	# the BTF step of newer kernels' headers (Debian's 6.12 and 7.x ship
	# a vmlinux and set CONFIG_DEBUG_INFO_BTF_MODULES)
	pahole
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
	# mke2fs, e2fsck and debugfs for virtio_linux_test's ext4 images
	# (copied into the initramfs with their libraries)
	e2fsprogs
	# the test runner, selftests/vm/hvxcheck.py (standard library only)
	python3
)

exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" deps.sh "${packages[@]}"
