#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel behind `make check-debug`: Debian's 6.1 source
# (package linux-source-6.1) with KASAN, lockdep, kmemleak,
# DEBUG_ATOMIC_SLEEP, list/object debugging and fault injection, plus
# kvm.ko/kvm-intel.ko for the tests that take turns with KVM.
#
# Usage: debug-kernel.sh CACHE_DIR
# Prints the kernel tree's path on its last line. The tree is cached in
# CACHE_DIR/debug-kernel/ and rebuilt only when this script (the config)
# or the source package changes (see stamp_want).

set -euo pipefail

CACHE=$(realpath -m "${1:?usage: debug-kernel.sh CACHE_DIR}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=$CACHE/debug-kernel
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
log() { echo "debug-kernel.sh: $*" >&2; }

packages=(linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils)
bash "$HERE/apt-install.sh" debug-kernel.sh "${packages[@]}" >&2
[[ -f $SRC_TAR ]] || { log "no $SRC_TAR after installing linux-source-6.1"; exit 1; }

# The options that make this a debug kernel, on top of x86_64_defconfig
# and kvm_guest.config. Changing this list rebuilds the kernel.
DEBUG_OPTS=(
	KASAN KASAN_GENERIC KASAN_INLINE
	PROVE_LOCKING DEBUG_LOCKDEP DEBUG_ATOMIC_SLEEP DEBUG_SPINLOCK
	DEBUG_MUTEXES DEBUG_RWSEMS DEBUG_LOCK_ALLOC
	DEBUG_KMEMLEAK
	DEBUG_LIST DEBUG_OBJECTS DEBUG_OBJECTS_TIMERS DEBUG_OBJECTS_FREE
	DEBUG_OBJECTS_WORK DEBUG_OBJECTS_RCU_HEAD
	DEBUG_VM DEBUG_PAGEALLOC PAGE_POISONING
	PROVE_RCU
	FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC FAULT_INJECTION_DEBUG_FS
	DEBUG_FS DEBUG_INFO_NONE
	HOTPLUG_CPU MODULES MODULE_UNLOAD
	PCI IOMMU_SUPPORT INTEL_IOMMU IRQ_REMAP
	VIRTUALIZATION NET_VENDOR_INTEL NET_VENDOR_8390
	KERNEL_XZ	# the harness's fast Bochs boot unpacks an XZ payload
)
# Modules: KVM's, and the drivers passthrough_test gives released NICs
# back to (built in, they would claim the devices at boot).
MODULE_OPTS=(KVM KVM_INTEL E1000 E1000E NE2K_PCI)
# No automatic kmemleak scans: /init scans when the suite is done, and a
# scan of all RAM every 10 minutes is most of what Bochs would emulate.
OFF_OPTS=(KERNEL_GZIP RANDOMIZE_BASE MODULE_SIG DEBUG_INFO_BTF DEBUG_KMEMLEAK_DEFAULT_OFF
	  DEBUG_KMEMLEAK_AUTO_SCAN KASAN_OUTLINE DRM WLAN WIRELESS SOUND USB_SUPPORT)

# The cache key: the options above, this script's config steps and the
# source package.
stamp_want=$( { printf '%s\n' "${DEBUG_OPTS[@]}" "${MODULE_OPTS[@]}" "${OFF_OPTS[@]}" \
	"config-v1"; sha256sum "$SRC_TAR" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
tree=$DIR/linux
if [[ -f $DIR/.stamp && $(cat "$DIR/.stamp") == "$stamp_want" && -f $tree/arch/x86/boot/bzImage ]]; then
	log "cached: $tree"
	echo "$tree"
	exit 0
fi

# A tree unpacked from the same source package is reused: a changed
# option list is applied in place and kbuild rebuilds only what depends
# on the options that changed; an interrupted build resumes.
src_want=$(sha256sum "$SRC_TAR" | cut -c1-16)

unpack_tree() {
	rm -rf "$DIR"
	mkdir -p "$DIR"
	log "unpacking $SRC_TAR"
	tar -C "$DIR" -xf "$SRC_TAR"
	mv "$DIR"/linux-source-6.1 "$tree"
	echo "$src_want" >"$DIR/.src-stamp"
}

configure_tree() {
	cd "$tree"
	make -s x86_64_defconfig
	make -s kvm_guest.config
	for o in "${DEBUG_OPTS[@]}"; do scripts/config -e "$o"; done
	for o in "${MODULE_OPTS[@]}"; do scripts/config -m "$o"; done
	for o in "${OFF_OPTS[@]}"; do scripts/config -d "$o"; done
	scripts/config --set-str LOCALVERSION "-hvxdebug" -d LOCALVERSION_AUTO
	# A leak report needs room for the boot's objects and the suite's.
	scripts/config --set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 40000
	make -s olddefconfig
	for o in KASAN PROVE_LOCKING DEBUG_KMEMLEAK DEBUG_ATOMIC_SLEEP FAILSLAB; do
		grep -q "^CONFIG_$o=y" .config || { log "CONFIG_$o did not stick"; exit 1; }
	done
	for o in "${MODULE_OPTS[@]}"; do
		grep -q "^CONFIG_$o=m" .config || { log "CONFIG_$o=m did not stick"; exit 1; }
	done
	echo "$stamp_want" >"$DIR/.config-stamp"
}

build_tree() {
	cd "$tree"
	log "building (about 30 min on 2 cores; cached afterwards)"
	jobs=$(nproc)
	make -s -j"$jobs" bzImage modules >"$DIR/build.log" 2>&1 ||
		{ tail -n 30 "$DIR/build.log" >&2; log "build failed, see $DIR/build.log"; exit 1; }
	echo "$stamp_want" >"$DIR/.stamp"
	log "built $tree/arch/x86/boot/bzImage"
	echo "$tree"
}

if [[ ! -f $DIR/.src-stamp || $(cat "$DIR/.src-stamp") != "$src_want" || ! -f $tree/Makefile ]]; then
	unpack_tree
fi
if [[ -f $DIR/.config-stamp && $(cat "$DIR/.config-stamp") == "$stamp_want" && -f $tree/.config ]]; then
	log "resuming the build in $tree"
else
	log "configuring $tree"
	configure_tree
fi
build_tree
exit 0
