#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the 7.x host kernel behind `make check HVX_KERNEL=7`: Debian's
# linux-source-7.* (the one `make kernels` fetched into
# CACHE_DIR/kernels/) with kmod/patches/ applied, configured as
# x86_64_defconfig + kvm_guest.config + what the suite needs, with
# kvm.ko/kvm-intel.ko as modules so that KVM and hvx can run VMs in the
# same boot.
#
# Usage: kernel7.sh CACHE_DIR
# Prints the kernel tree's path on its last line. The tree is cached in
# CACHE_DIR/kernel7/ and rebuilt only when this script's option lists,
# the source package or the patch series change (see stamp_want).
# Environment: HVX_JOBS (make -j, default 2). The build runs at nice 19.

set -euo pipefail

CACHE=$(realpath -m "${1:?usage: kernel7.sh CACHE_DIR}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DIR=$CACHE/kernel7
JOBS=${HVX_JOBS:-2}
log() { echo "kernel7.sh: $*" >&2; }

bash "$HERE/apt-install.sh" kernel7.sh bc bison flex libelf-dev libssl-dev xz-utils >&2

# The newest linux-source-7.* that kernels.sh unpacked (make kernels).
SRC_TAR=$(compgen -G "$CACHE/kernels/7.*/pkg/usr/src/linux-source-7.*.tar.xz" | sort -V | tail -n1 || true)
[[ -n $SRC_TAR ]] || { log "no linux-source-7.* under $CACHE/kernels: run 'make kernels' once first"; exit 1; }

# On top of x86_64_defconfig and kvm_guest.config: what the suite
# reads or drives (suspend's pm_test, hugepages, debugfs, kexec, the
# IOMMU for passthrough), FRED (off unless booted with fred=on), and
# the fast Bochs boot's XZ payload.
ON_OPTS=(
	HOTPLUG_CPU MODULES MODULE_UNLOAD PCI IOMMU_SUPPORT INTEL_IOMMU IRQ_REMAP
	VIRTUALIZATION NET_VENDOR_INTEL NET_VENDOR_8390
	SUSPEND PM_SLEEP PM_DEBUG PM_SLEEP_DEBUG
	HUGETLBFS TRANSPARENT_HUGEPAGE DEBUG_FS DYNAMIC_DEBUG DMI
	KEXEC KEXEC_FILE X86_MCE X86_MCE_INTEL X86_FRED
	DEBUG_INFO_NONE
	KERNEL_XZ
)
# Modules: KVM's (the suite loads and unloads them), the MSR device,
# and the NIC drivers passthrough_test gives released devices back to.
MODULE_OPTS=(KVM KVM_INTEL X86_MSR E1000 E1000E NE2K_PCI)
OFF_OPTS=(KERNEL_GZIP RANDOMIZE_BASE MODULE_SIG DEBUG_INFO_BTF KVM_INTEL_TDX KVM_AMD
	  DRM WLAN WIRELESS SOUND USB_SUPPORT)

# The configuration depends on the option lists and the source package;
# the built tree on those and the patch series.
src_sum=$(sha256sum "$SRC_TAR" | cut -d' ' -f1)
config_want=$( { printf '%s\n' "${ON_OPTS[@]}" "${MODULE_OPTS[@]}" "${OFF_OPTS[@]}" \
	"config-v1" "$src_sum"; } | sha256sum | cut -c1-16)
series_sum=$(cat "$TOP"/kmod/patches/*.patch | sha256sum | cut -c1-16)
stamp_want=$(printf '%s %s\n' "$config_want" "$series_sum" | sha256sum | cut -c1-16)
tree=$DIR/linux
if [[ -f $DIR/.stamp && $(cat "$DIR/.stamp") == "$stamp_want" && -f $tree/arch/x86/boot/bzImage ]]; then
	log "cached: $tree"
	echo "$tree"
	exit 0
fi

# A tree unpacked from the same source package is reused: a changed
# series is reverted and reapplied in place, a changed option list is
# applied in place, and kbuild rebuilds only what changed; an
# interrupted build resumes.
src_want=$(sha256sum "$SRC_TAR" | cut -c1-16)

unpack_tree() {
	local top
	rm -rf "$DIR"
	mkdir -p "$DIR/applied"
	log "unpacking $SRC_TAR"
	tar -C "$DIR" -xf "$SRC_TAR"
	top=$(basename "$SRC_TAR" .tar.xz)
	mv "$DIR/$top" "$tree"
	echo "$src_want" >"$DIR/.src-stamp"
}

# apply_series: make the tree carry exactly kmod/patches/ (a copy of
# the applied series is kept in $DIR/applied to revert it). Only the
# patches from the first one whose changes differ are reverted and
# applied again: a new patch at the end, or a reworded message, leaves the
# files of the others untouched, so kbuild rebuilds only what changed.
patch_body() { sed -n '/^diff --git /,$p' "$1"; }
apply_series() {
	local f i=0 keep=0
	local -a have want
	mapfile -t have < <(compgen -G "$DIR/applied/*.patch" | sort || true)
	mapfile -t want < <(compgen -G "$TOP/kmod/patches/*.patch" | sort)
	while ((keep < ${#have[@]} && keep < ${#want[@]})) &&
		cmp -s <(patch_body "${have[keep]}") <(patch_body "${want[keep]}"); do
		keep=$((keep + 1))
	done
	for ((i = ${#have[@]} - 1; i >= keep; i--)); do
		f=${have[i]}
		log "reverting $(basename "$f")"
		patch -s -R -p1 -d "$tree" <"$f" >&2 || { log "cannot revert $(basename "$f")"; exit 1; }
		rm "$f"
	done
	for ((i = 0; i < keep; i++)); do	# same changes: take the new message
		rm "${have[i]}"
		cp "${want[i]}" "$DIR/applied/"
	done
	for ((i = keep; i < ${#want[@]}; i++)); do
		f=${want[i]}
		log "applying $(basename "$f")"
		patch -s -p1 -d "$tree" <"$f" >&2 || { log "$(basename "$f") does not apply"; exit 1; }
		cp "$f" "$DIR/applied/"
	done
}

configure_tree() {
	local o
	cd "$tree"
	make -s x86_64_defconfig
	make -s kvm_guest.config
	for o in "${ON_OPTS[@]}"; do scripts/config -e "$o"; done
	for o in "${MODULE_OPTS[@]}"; do scripts/config -m "$o"; done
	for o in "${OFF_OPTS[@]}"; do scripts/config -d "$o"; done
	scripts/config --set-str LOCALVERSION "-hvx7" -d LOCALVERSION_AUTO
	make -s olddefconfig
	for o in X86_FRED INTEL_IOMMU PM_DEBUG KERNEL_XZ; do
		grep -q "^CONFIG_$o=y" .config || { log "CONFIG_$o did not stick"; exit 1; }
	done
	for o in "${MODULE_OPTS[@]}"; do
		grep -q "^CONFIG_$o=m" .config || { log "CONFIG_$o=m did not stick"; exit 1; }
	done
	echo "$config_want" >"$DIR/.config-stamp"
}

build_tree() {
	cd "$tree"
	log "building (about 30 min on 2 free cores; cached afterwards)"
	nice -n 19 make -s -j"$JOBS" bzImage modules >"$DIR/build.log" 2>&1 ||
		{ tail -n 30 "$DIR/build.log" >&2; log "build failed, see $DIR/build.log"; exit 1; }
	echo "$stamp_want" >"$DIR/.stamp"
	log "built $tree/arch/x86/boot/bzImage"
	echo "$tree"
}

if [[ ! -f $DIR/.src-stamp || $(cat "$DIR/.src-stamp") != "$src_want" || ! -f $tree/Makefile ]]; then
	unpack_tree
fi
apply_series
if [[ -f $DIR/.config-stamp && $(cat "$DIR/.config-stamp") == "$config_want" && -f $tree/.config ]]; then
	log "resuming the build in $tree"
else
	log "configuring $tree"
	configure_tree
fi
build_tree
exit 0
