#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The emulator test run behind `make check`.
#
# Builds one initramfs holding busybox, hvx.ko, the emulated host's KVM
# modules and the test programs, and the Bochs boot media (lib.sh); then
# hvxcheck.py boots it in Bochs (VMX, EPT, VPID) and in QEMU TCG
# (intel-iommu, no VMX) in parallel, and turns what /init prints on the
# serial console (see init.sh) into one line per test case:
#
#   PASS  <emu>/<binary>/<case>
#   FAIL  <emu>/<binary>/<case>            (or <emu>/<binary> : why)
#   SKIP  <emu>/<binary>/<case> : reason
#
# and finally `N passed, N failed, N skipped`. Exits non-zero if anything
# failed or nothing passed.
#
# Environment (set by the top-level Makefile):
#   HVX_BUILD       absolute path of build/ (outputs go to build/check/)
#   HVX_KO          absolute path of hvx.ko
#   HVX_TESTS_DIR   directory of test programs (static executables)
#   HVX_HOST_KVER   emulated host kernel, e.g. 6.1.0-56-amd64
#   HVX_HVXCTL      optional: hvxctl (static), installed as /usr/bin/hvxctl
#                   and passed to the tests as HVX_HVXCTL
#   HVX_RUN         optional: hvx-run (static); with run_test, installed as
#                   /usr/bin/hvx-run with a guest in /lib/hvx/guest/
#   TESTS           optional extended regex on test names (empty = all)
# Optional knobs, for debugging the harness:
#   HVX_EMUS            emulators to run (default "bochs qemu bochs-smp
#                       bochs-spec bochs-smp2", and qemu-nointremap when
#                       passthrough_test runs; "qemu-kvm qemu" instead of
#                       the Bochs ones when /dev/kvm offers nested VMX;
#                       each one's programs: EMULATORS in hvxcheck.py)
#   HVX_TEST_TIMEOUT    per-test limit in seconds (overrides settings)
#   HVX_MODULE_PARAMS   hvx.ko parameters for insmod, e.g. "apic_vid=1"
#   HVX_BOCHS_TIMEOUT   Bochs wall-clock limit in seconds (default 1500,
#                       900 more with the kexec step)
#   HVX_QEMU_TIMEOUT    QEMU wall-clock limit in seconds (default 600)
#   HVX_HOST_VMLINUZ, HVX_HOST_MODULES_DIR  boot this kernel image instead of
#                       the Debian package, with kvm modules found below
#                       the directory (make check-debug)
#   HVX_KEXEC=1     with vmxlife_test: end with the kexec step (init.sh)
#   HVX_KERNEL=7    the host kernel is the 7.x one (make check HVX_KERNEL=7):
#                   hvxcheck.py drops its one known boot warning
#   HVX_BOCHS_STOCK_KERNEL=1  boot Bochs from the stock compressed vmlinuz
#                       instead of the fastboot.S image (slower by ~2 min)

set -euo pipefail

T_START=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # selftests/vm
REPO=$(cd "$HERE/../.." && pwd)
SCRIPT_NAME=check.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# Errors before the emulators run still end with the summary line.
die() {
	echo "check.sh: $*" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}
log() { echo "check.sh: $*"; }

# The host kernel the Makefile pins (its records go to check.md).
PINNED_KVER=$(sed -n 's/^HVX_HOST_KVER[[:space:]]*:\?=[[:space:]]*//p' "$REPO/Makefile")
HVX_HOST_KVER=${HVX_HOST_KVER:-$PINNED_KVER}
: "${HVX_BUILD:?set HVX_BUILD (absolute path of build/)}"
: "${HVX_KO:?set HVX_KO (path of hvx.ko)}"
: "${HVX_TESTS_DIR:?set HVX_TESTS_DIR (directory of test programs)}"
: "${HVX_HOST_KVER:?set HVX_HOST_KVER}"
TESTS=${TESTS:-}
KVER=$HVX_HOST_KVER

HVX_BUILD=$(realpath -m "$HVX_BUILD")
CACHE=$HVX_BUILD/cache
OUT=$HVX_BUILD/check
IMG=$OUT/img

[[ -f "$HVX_KO" ]] || die "module not found: HVX_KO=$HVX_KO"
[[ -d "$HVX_TESTS_DIR" ]] || die "test directory not found: HVX_TESTS_DIR=$HVX_TESTS_DIR"
HVX_KO=$(realpath "$HVX_KO")
HVX_TESTS_DIR=$(realpath "$HVX_TESTS_DIR")

rm -rf "$OUT"
mkdir -p "$CACHE" "$OUT" "$IMG"

# ---------------------------------------------------------------------------
# Which tests: every regular executable in HVX_TESTS_DIR except kselftest
# `settings` and build leftovers, filtered by $TESTS.

tests=()
while IFS= read -r -d '' f; do
	name=${f##*/}
	case "$name" in
	settings | *.o | *.d | *.txt) continue ;;
	esac
	[[ -x "$f" ]] || continue
	[[ "$name" =~ ^[A-Za-z0-9._+-]+$ ]] || die "test name not supported (use [A-Za-z0-9._+-]): '$name'"
	if [[ -n "$TESTS" ]]; then
		rc=0
		grep -qE -- "$TESTS" <<<"$name" || rc=$?
		((rc == 2)) && die "TESTS is not a valid extended regex: $TESTS"
		((rc == 0)) || continue
	fi
	tests+=("$name")
done < <(find "$HVX_TESTS_DIR" -mindepth 1 -maxdepth 1 -type f -print0 | sort -z)

if ((${#tests[@]} == 0)); then
	die "no test programs in $HVX_TESTS_DIR${TESTS:+ match TESTS='$TESTS'}"
fi
log "${#tests[@]} test program(s): ${tests[*]}"

# The emulators, and which of the programs each runs (hvxcheck.py); an
# emulator with nothing to run is left out. BOCHS_SPEC_TESTS: lib.sh.
export BOCHS_SPEC_TESTS
EMUS=$(python3 "$HERE/hvxcheck.py" emus --tests "${tests[*]}") ||
	{ echo "0 passed, 1 failed, 0 skipped"; exit 1; }
log "emulators: $EMUS"
# QEMU without interrupt remapping runs passthrough_test alone.
NOIR_TEST=passthrough_test

# Per-test limit, kselftest `settings` format (timeout=N, 0 = none).
test_timeout=300
for s in "$REPO/selftests/hvx/settings" "$HVX_TESTS_DIR/settings"; do
	if [[ -f "$s" ]]; then
		v=$(sed -n 's/^[[:space:]]*timeout[[:space:]]*=[[:space:]]*\([0-9]\+\).*/\1/p' "$s" | tail -n1)
		[[ -n "$v" ]] && test_timeout=$v
		break
	fi
done
test_timeout=${HVX_TEST_TIMEOUT:-$test_timeout}
[[ "$test_timeout" =~ ^[0-9]+$ ]] || die "bad per-test timeout: $test_timeout"

# ---------------------------------------------------------------------------
# The emulated host kernel and the initramfs (one image for both
# emulators). The functions are in lib.sh, shared with bench.sh.

host_kernel
root=$IMG/root
initramfs_base "$root" "$test_timeout"

# --- passthrough: NIC drivers for passthrough_test ----------
# e1000.ko (QEMU's e1000 beside the edu; Bochs's e1000), ne2k-pci.ko and
# 8390.ko (Bochs's NE2000 PCI), so the test can give a released device
# back to its host driver. Not loaded at boot: the devices stay
# driverless until a test binds them (passthrough_test reads HVX_NIC_DIR,
# default /lib/hvx/nic).
mkdir -p "$root/lib/hvx/nic"
for m in e1000 8390 ne2k-pci; do
	copy_module "$kmods/drivers/net" "$m" "$root/lib/hvx/nic"
done
# --- end passthrough ---------------------------------------------------

# --- virtio_linux_test: loop.ko (its crash case backs the disk with a loop
# device, whose flush count shows the guest's flushes reaching the host);
# not copied where the loop driver is built in.
if run_has virtio_linux_test && has_module "$kmods" loop; then
	mkdir -p "$root/lib/hvx/blk"
	copy_module "$kmods" loop "$root/lib/hvx/blk"
fi
# --- end virtio_linux_test ---

# --- virtio_net_test, virtio_linux_test, fuzz_test: tun.ko (the tap
# behind the virtio-net device), loaded by the tests from /lib/hvx/net;
# not copied where tun is built in.
if run_has 'virtio_net_test|virtio_linux_test|fuzz_test' &&
	has_module "$kmods" tun; then
	mkdir -p "$root/lib/hvx/net"
	copy_module "$kmods" tun "$root/lib/hvx/net"
fi
# --- end virtio_net_test ---

# --- xhost_test: the disk bochs and bochs-spec share (lib.sh setup_bochs),
# fresh and empty each run, the host kernel's ATA and SCSI disk drivers in
# /lib/hvx/ata/ (modules in Debian's kernel; the test loads them), and
# hvx-run (without the Linux guest, unless another test adds it below).
XHOST_IMG=
if run_has xhost_test; then
	XHOST_IMG=$IMG/xhost.img
	truncate -s "$XHOST_IMG_SIZE" "$XHOST_IMG"
	mkdir -p "$root/lib/hvx/ata"
	for m in scsi_common scsi_mod libata ata_piix crct10dif_common crc-t10dif \
		crc64 crc64-rocksoft t10-pi sd_mod; do
		if has_module "$kmods" "$m" ||
			grep -qs "/$m\.ko\$" "$kmods/modules.builtin"; then
			copy_module "$kmods" "$m" "$root/lib/hvx/ata"
		else
			log "xhost_test: no module $m in this kernel"
		fi
	done
	if [[ -n "${HVX_RUN:-}" ]]; then
		install -D -m 755 "$HVX_RUN" "$root/usr/bin/hvx-run"
	fi
fi
# --- end xhost_test ---

for t in "${tests[@]}"; do
	cp "$HVX_TESTS_DIR/$t" "$root/tests/$t"
	chmod 755 "$root/tests/$t"
	# Tests should be static. If one is not, bring its libraries along
	# rather than failing in a way that is hard to read.
	if ! file_is_static "$HVX_TESTS_DIR/$t"; then
		log "warning: $t is dynamically linked; copying its libraries"
		for lib in $(ldd "$HVX_TESTS_DIR/$t" 2>/dev/null | grep -o '/[^ ]*' || true); do
			cp -L --parents "$lib" "$root/" 2>/dev/null || true
		done
	fi
done

# --- kexec step (vmxlife_test --kexec, run by init.sh last) --------------
# Opt-in (HVX_KEXEC=1): it adds minutes of Bochs wall time
# (selftests/README.md). The stock kernel (kexec_file_load takes a
# bzImage with a 64-bit entry, which the fastboot.S image lacks) and a
# small initramfs whose /init (kexec-init.sh) reports the CPUs that came up.
if [[ "${HVX_KEXEC:-0}" == 1 ]] && run_has vmxlife_test; then
	kroot=$IMG/kexec-root
	rm -rf "$kroot"
	mkdir -p "$root/lib/hvx/kexec" "$kroot"/{bin,dev,proc,sys}
	cp "$VMLINUZ" "$root/lib/hvx/kexec/vmlinuz"
	cp /bin/busybox "$kroot/bin/busybox"
	for a in sh mount grep cat uname head dmesg sleep poweroff; do
		ln -s busybox "$kroot/bin/$a"
	done
	mknod -m 600 "$kroot/dev/console" c 5 1 2>/dev/null || true
	install -m 755 "$HERE/kexec-init.sh" "$kroot/init"
	(cd "$kroot" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$root/lib/hvx/kexec/initrd.gz"
fi
# --- end kexec step ---------------------------------------------------

initramfs_pack "$root"

# --- passthrough: the qemu-nointremap initramfs, with that one test.
if [[ " $EMUS " == *" qemu-nointremap "* ]]; then
	(cd "$root" && { find . -path ./tests -prune -o -print; echo ./tests;
		echo "./tests/$NOIR_TEST"; } | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$IMG/initrd-nointremap.gz"
fi
# --- end passthrough ---

# ---------------------------------------------------------------------------
# hvx-run: when run_test, virtio_linux_test, snapshot_test (or the demo)
# is among the tests, add hvx-run, a guest kernel and a guest initramfs
# to the initramfs (selftests/vm/guest.sh); with virtio_linux_test also
# the ext4 tools. HVX_RUN: the hvx-run binary (top-level Makefile).
if [[ -n "${HVX_RUN:-}" ]] && run_has 'run_test|virtio_linux_test|snapshot_test|demo'; then
	source "$HERE/guest.sh"
	extras=()
	run_has virtio_linux_test && extras=(e2fsprogs)
	hvx_run_extras "${extras[@]}" >"$IMG/hvx-run-extras.log" 2>&1 ||
		die "hvx-run guest files: $(tail -n1 "$IMG/hvx-run-extras.log")"
	log "initramfs with the hvx-run guest: $(du -h "$IMG/initrd.gz" | cut -f1)"
fi
# --- end hvx-run ---

# ---------------------------------------------------------------------------
# Bochs's boot media (lib.sh), then hvxcheck.py: it starts the emulators
# in parallel, each with a wall-clock limit, supervises them, and reports.

for e in $EMUS; do
	case $e in
	bochs*)
		setup_bochs "$e" "$(python3 "$HERE/hvxcheck.py" cpus "$e")" \
			"$(HVX_EMUS=$EMUS python3 "$HERE/hvxcheck.py" only "$e" --tests "${tests[*]}")"
		;;
	esac
done
# A whole-suite run (no TESTS; the default emulators, or make
# check-debug's) leaves its record in selftests/results/: one file per
# host kernel kind.
record=()
debug_run=$([[ -n "${HVX_HOST_VMLINUZ:-}" && "${HVX_KERNEL:-}" != 7 ]] && echo 1 || true)
if [[ -z "$TESTS" && ( -z "${HVX_EMUS:-}" || -n "$debug_run" ) ]]; then
	if [[ "${HVX_KERNEL:-}" == 7 ]]; then
		record=(--record "$REPO/selftests/results/check-kernel7.md"
			--record-title "make check HVX_KERNEL=7: the suite on a patched 7.x host kernel")
	elif [[ -n "${HVX_HOST_VMLINUZ:-}" ]]; then
		record=(--record "$REPO/selftests/results/check-debug.md"
			--record-title "make check-debug: the suite on a debug build of the host kernel")
	elif [[ "$KVER" != "$PINNED_KVER" ]]; then
		# Another Debian kernel as the emulated host (HVX_HOST_KVER=...).
		record=(--record "$REPO/selftests/results/check-${KVER%%-*}.md"
			--record-title "make check HVX_HOST_KVER=$KVER: the suite on another Debian host kernel")
	else
		record=(--record "$REPO/selftests/results/check.md"
			--record-title "make check: the suite on Debian's host kernel")
	fi
	# The commit tested: taken by make at its start (HVX_COMMIT), as the
	# tree may move on during the builds and while the emulators run.
	record+=(--record-commit "${HVX_COMMIT:-$(git -C "$REPO" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)}")
	mkdir -p "$REPO/selftests/results"
fi
export VMLINUZ CMDLINE_QEMU CMDLINE_QEMU_NOINTREMAP HVX_EMUS=$EMUS
rc=0
python3 "$HERE/hvxcheck.py" run --tests "${tests[*]}" --out "$OUT" --img "$IMG" \
	--timeout "$test_timeout" --elapsed $((SECONDS - T_START)) "${record[@]}" || rc=$?

# The live-migration figures snapshot_test printed (its "# migrated to"
# lines: total time, downtime, bytes), per emulator, with the command
# that measured them (userspace/README.md, "Migration figures").
rm -f "$OUT/migration.txt"
for f in "$OUT"/*-serial.log; do
	[[ -f "$f" ]] || continue
	emu=${f##*/}
	emu=${emu%-serial.log}
	grep -a '^# migrated to ' "$f" | tr -d '\r' | sed "s/^# /$emu: /" || true
done >"$OUT/migration.tmp"
if [[ -s "$OUT/migration.tmp" ]]; then
	{
		echo "command: make check TESTS='$TESTS' HVX_EMUS='$EMUS'"
		echo "commit: ${HVX_COMMIT:-$(git -C "$REPO" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)}"
		echo "times: the emulated host's CLOCK_MONOTONIC (emulated time)"
		cat "$OUT/migration.tmp"
	} >"$OUT/migration.txt"
	echo "check.sh: migration figures in $OUT/migration.txt"
	# The whole suite's on the pinned host kernel are its record too.
	if [[ "${record[1]:-}" == "$REPO/selftests/results/check.md" ]]; then
		{
			echo "# Live-migration figures (generated)"
			echo
			echo "Written by \`make check\` (selftests/vm/check.sh) from snapshot_test's summary lines; do not edit."
			echo
			echo '```'
			cat "$OUT/migration.txt"
			echo '```'
		} >"$REPO/selftests/results/migration.md"
	fi
fi
rm -f "$OUT/migration.tmp"
exit "$rc"
