#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The emulator test run behind `make check`.
#
# Builds one initramfs holding busybox, hvx.ko, the emulated host's KVM
# modules and the test programs, boots it in Bochs (VMX, EPT, VPID) and
# in QEMU TCG (intel-iommu, no VMX) in parallel, and turns what /init
# prints on the serial console (see init.sh) into one line per test case:
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
#                       bochs-spec", and qemu-nointremap when
#                       passthrough_test runs; bochs-spec: Bochs booted
#                       with mitigations=auto, running BOCHS_SPEC_TESTS
#                       only; qemu-nointremap: QEMU with intremap=off,
#                       running passthrough_test alone)
#   HVX_TEST_TIMEOUT    per-test limit in seconds (overrides settings)
#   HVX_MODULE_PARAMS   hvx.ko parameters for insmod, e.g. "apic_vid=1"
#   HVX_BOCHS_TIMEOUT   Bochs wall-clock limit in seconds (default 1500)
#   HVX_QEMU_TIMEOUT    QEMU wall-clock limit in seconds (default 600)
#   HVX_HOST_VMLINUZ, HVX_HOST_MODULES_DIR  boot this kernel image instead of
#                       the Debian package, with kvm modules found below
#                       the directory (make check-debug)
#   HVX_KEXEC=1     with vmxlife_test: end with the kexec step (init.sh)
#   HVX_KERNEL=7    the host kernel is the 7.x one (make check HVX_KERNEL=7):
#                   its one known boot warning is not kernel trouble
#                   (known_boot_warnings in lib.sh)
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

if [[ -z "${HVX_HOST_KVER:-}" ]]; then
	HVX_HOST_KVER=$(sed -n 's/^HVX_HOST_KVER[[:space:]]*:\?=[[:space:]]*//p' "$REPO/Makefile")
fi
: "${HVX_BUILD:?set HVX_BUILD (absolute path of build/)}"
: "${HVX_KO:?set HVX_KO (path of hvx.ko)}"
: "${HVX_TESTS_DIR:?set HVX_TESTS_DIR (directory of test programs)}"
: "${HVX_HOST_KVER:?set HVX_HOST_KVER}"
TESTS=${TESTS:-}
KVER=$HVX_HOST_KVER
EMUS=${HVX_EMUS:-bochs qemu bochs-smp bochs-spec}
BOCHS_TIMEOUT=${HVX_BOCHS_TIMEOUT:-1500}   # 25 min
QEMU_TIMEOUT=${HVX_QEMU_TIMEOUT:-600}      # 10 min

HVX_BUILD=$(realpath -m "$HVX_BUILD")
CACHE=$HVX_BUILD/cache
OUT=$HVX_BUILD/check
IMG=$OUT/img

[[ -f "$HVX_KO" ]] || die "module not found: HVX_KO=$HVX_KO"
[[ -d "$HVX_TESTS_DIR" ]] || die "test directory not found: HVX_TESTS_DIR=$HVX_TESTS_DIR"
HVX_KO=$(realpath "$HVX_KO")
HVX_TESTS_DIR=$(realpath "$HVX_TESTS_DIR")
for e in $EMUS; do
	[[ $e == bochs || $e == qemu || $e == bochs-smp || $e == bochs-spec ||
		$e == qemu-nointremap ]] ||
		die "HVX_EMUS: unknown emulator '$e'"
done

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

# --- passthrough: QEMU without interrupt remapping runs passthrough_test
# alone (its interrupt-isolation case; the rest skips there).
NOIR_TEST=passthrough_test
has_noir_test() { printf '%s\n' "${tests[@]}" | grep -qx "$NOIR_TEST"; }
if [[ -z "${HVX_EMUS:-}" ]] && has_noir_test; then
	EMUS+=" qemu-nointremap"
fi
# --- end passthrough ---

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
	src=$(find "$kmods/drivers/net" -name "$m.ko" | head -n1)
	[[ -n "$src" ]] || die "module $m not found in $kmods/drivers/net"
	cp "$src" "$root/lib/hvx/nic/$m.ko"
done
# --- end passthrough ---------------------------------------------------

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
# Opt-in (HVX_KEXEC=1): in bochs-smp the step does not reach its reboot
# yet (selftests/vm/README.md). The stock kernel (kexec_file_load takes a
# bzImage with a 64-bit entry, which the fastboot.S image lacks) and a
# small initramfs whose /init (kexec-init.sh) reports the CPUs that came up.
if [[ "${HVX_KEXEC:-0}" == 1 ]] && printf '%s\n' "${tests[@]}" | grep -qx vmxlife_test; then
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
	has_noir_test || die "qemu-nointremap runs only $NOIR_TEST, which TESTS leaves out"
	(cd "$root" && { find . -path ./tests -prune -o -print; echo ./tests;
		echo "./tests/$NOIR_TEST"; } | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$IMG/initrd-nointremap.gz"
fi
# --- end passthrough ---

# ---------------------------------------------------------------------------
# hvx-run: when run_test (or the demo) is among the tests, add
# hvx-run, a guest kernel and a guest initramfs to the initramfs
# (selftests/vm/guest.sh). HVX_RUN: the hvx-run binary (top-level Makefile).
if [[ -n "${HVX_RUN:-}" ]] && printf '%s\n' "${tests[@]}" | grep -qE '^(run_test|demo)$'; then
	source "$HERE/guest.sh"
	hvx_run_extras >"$IMG/hvx-run-extras.log" 2>&1 ||
		die "hvx-run guest files: $(tail -n1 "$IMG/hvx-run-extras.log")"
	log "initramfs with the hvx-run guest: $(du -h "$IMG/initrd.gz" | cut -f1)"
fi
# --- end hvx-run ---

# ---------------------------------------------------------------------------
# Run the emulators in parallel, each with a wall-clock limit (lib.sh).

trap cleanup EXIT
trap 'exit 130' INT TERM

# emu_tests EMU: the selected programs EMU runs (bochs-spec: only those
# in BOCHS_SPEC_TESTS, lib.sh; qemu-nointremap: only $NOIR_TEST).
emu_tests() {
	local t
	for t in "${tests[@]}"; do
		[[ $1 == bochs-spec && " $BOCHS_SPEC_TESTS " != *" $t "* ]] && continue
		[[ $1 == qemu-nointremap && $t != "$NOIR_TEST" ]] && continue
		echo "$t"
	done
	return 0
}

# An emulator with nothing to run is left out.
emus=
for e in $EMUS; do
	[[ -n "$(emu_tests "$e")" ]] && emus+=" $e"
done
EMUS=${emus# }
[[ -n "$EMUS" ]] || die "no emulator runs any of: ${tests[*]}"

for e in $EMUS; do
	case $e in
	bochs | bochs-smp | bochs-spec)
		setup_bochs "$e" "$([[ $e == bochs-smp ]] && echo 2 || echo 1)"
		start_emu "$e" "$BOCHS_TIMEOUT" \
			bochs -q -f "$IMG/$e.bochsrc" -rc "$IMG/bochs.rc"
		;;
	qemu)
		# passthrough: the edu and an e1000 share slot 4,
		# hence one IOMMU group (conventional PCI functions without
		# ACS); the edu's DMA reaches 40 address bits, not 28.
		# An e1000e (MSI-X) alone at 00:05.0 for the guest MSI-X.
		start_emu qemu "$QEMU_TIMEOUT" \
			qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 512 \
			-nographic -monitor none -serial "file:$OUT/qemu-serial.log" \
			-no-reboot -kernel "$VMLINUZ" -initrd "$IMG/initrd.gz" \
			-append "$CMDLINE_QEMU" \
			-device intel-iommu,intremap=on \
			-device edu,addr=4.0,multifunction=on,dma_mask=0xffffffffff \
			-device e1000,addr=4.1,netdev=pt0 -netdev user,id=pt0 \
			-device e1000e,addr=5.0,netdev=pt1 -netdev user,id=pt1
		;;
	qemu-nointremap)
		# passthrough: the same edu and e1000, behind an IOMMU
		# without interrupt remapping.
		start_emu "$e" "$QEMU_TIMEOUT" \
			qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 512 \
			-nographic -monitor none -serial "file:$OUT/$e-serial.log" \
			-no-reboot -kernel "$VMLINUZ" -initrd "$IMG/initrd-nointremap.gz" \
			-append "$CMDLINE_QEMU_NOINTREMAP" \
			-device intel-iommu,intremap=off \
			-device edu,addr=4.0,multifunction=on,dma_mask=0xffffffffff \
			-device e1000,addr=4.1,netdev=pt0 -netdev user,id=pt0
		;;
	esac
done
supervise

# ---------------------------------------------------------------------------
# Results.

declare -i NPASS=0 NFAIL=0 NSKIP=0
RESULTS=$OUT/results.txt
: >"$RESULTS"

# result KIND NAME [REASON]
result() {
	local line
	line=$(printf '%-4s  %s' "$1" "$2")
	if [[ -n "${3:-}" ]]; then line+=" : $3"; fi
	echo "$line" | tee -a "$RESULTS"
	case $1 in
	PASS) NPASS+=1 ;;
	FAIL) NFAIL+=1 ;;
	SKIP) NSKIP+=1 ;;
	esac
}

# Evaluate one test's TAP section. Prints KIND NAME REASON lines,
# separated by \037 (NAME empty for a result about the whole binary).
# Input: the .tap file; rc = exit code, or "none" (no END marker) or
# "notrun" (no BEGIN marker).
TAP_AWK='
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function out(kind, name, reason) { printf "%s\037%s\037%s\n", kind, name, reason }
BEGIN { np = nf = ns = ncase = 0; plan = -1; planskip = ""; bail = ""; stuck = 0 }
{ gsub(/\r/, "") }
/### HVX-STUCK/ { stuck = 1 }
/^1\.\.[0-9]+/ {
	plan = substr($0, 4) + 0
	if (match(tolower($0), /#[ \t]*skip/)) {
		planskip = substr($0, RSTART + RLENGTH)
		sub(/^[A-Za-z]*:?/, "", planskip)   # rest of a word like SKIPPED
		planskip = trim(planskip)
		if (planskip == "") planskip = "skipped"
	}
	next
}
/^Bail out!/ { bail = trim($0); next }
# The harness prints "#  RUN" before a case and "# file.c:LINE:..." for a
# failed assertion: the first such line is the FAIL reason of the case.
/^#[ \t]+RUN[ \t]/ { diag = ""; next }
/^#[ \t]+[A-Za-z0-9_]+\.c:[0-9]+:/ { if (diag == "") diag = trim(substr($0, 2)); next }
/^(not )?ok([ \t]|$)/ {
	notok = ($0 ~ /^not ok/)
	rest = $0
	sub(/^(not )?ok[ \t]*/, "", rest)
	num = ""
	if (match(rest, /^[0-9]+/)) { num = substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1) }
	rest = trim(rest)
	sub(/^-[ \t]*/, "", rest)
	dir = ""; reason = ""; name = rest
	if (match(tolower(rest), /(^|[ \t])#[ \t]*(skip|todo|xfail)/)) {
		name = substr(rest, 1, RSTART - 1)
		d = substr(rest, RSTART)
		sub(/^[ \t]*#[ \t]*/, "", d)
		dir = tolower(substr(d, 1, 4))
		if (dir == "xfai") dir = "xfail"
		reason = d
		sub(/^[A-Za-z]*:?[ \t]*/, "", reason)
	}
	name = trim(name)
	if (name == "") name = "#" (num == "" ? ncase + 1 : num)
	ncase++
	d0 = diag; diag = ""
	if (dir == "skip") { ns++; out("SKIP", name, reason == "" ? "skipped" : reason) }
	else if (dir == "todo" && notok) { ns++; out("SKIP", name, "TODO" (reason == "" ? "" : ": " reason)) }
	else if (notok && dir != "xfail") { nf++; out("FAIL", name, d0) }
	else { np++; out("PASS", name, "") }
	next
}
END {
	why = ""
	if (rc == "notrun") why = "not run: the emulated host stopped before this test"
	else if (rc == "none") why = "no END marker: the test crashed or hung the emulated host"
	else if (rc == 124) why = "timed out after " tmo "s" (stuck ? " and could not be killed" : "")
	else if (bail != "") why = bail
	else if (ncase == 0) {
		if (rc == 4 || planskip != "") { out("SKIP", "", planskip != "" ? planskip : "exit code 4, no TAP results"); exit }
		if (rc != 0) why = "exit code " rc ", no TAP results"
		else { out("PASS", "", ""); exit }
	}
	else if (rc != 0 && rc != 4 && nf == 0)
		why = "exit code " rc (rc > 128 ? " (signal " rc - 128 ")" : "") " but no \"not ok\" line"
	else if (plan >= 0 && plan != ncase && nf == 0)
		why = "planned " plan " results, got " ncase
	if (why != "") out("FAIL", "", why)
}'

report_emu() { # emu
	local e=$1 dir=$OUT/$1 serial=$OUT/$1-serial.log rc t kind name reason
	mkdir -p "$dir"
	[[ -f "$serial" ]] || : >"$serial"

	# Split the serial log into one .tap file per test, the exit codes
	# into .rc files, and the final dmesg into <emu>-dmesg.log.
	awk -v dir="$dir" -v dmesg="$OUT/$e-dmesg.log" '
	{ gsub(/\r/, "") }
	match($0, /### HVX-BEGIN [^ ]+/) {
		cur = substr($0, RSTART + 14, RLENGTH - 14)
		printf "" > (dir "/" cur ".tap"); next
	}
	match($0, /### HVX-END [^ ]+ rc=[0-9]+/) {
		split(substr($0, RSTART + 12, RLENGTH - 12), a, " rc=")
		print a[2] > (dir "/" a[1] ".rc"); close(dir "/" a[1] ".rc")
		if (cur != "") close(dir "/" cur ".tap")
		cur = ""; next
	}
	match($0, /### HVX-TIME [^ ]+ [0-9.]+/) {
		print substr($0, RSTART + 13, RLENGTH - 13) > (dir "/times.txt"); next
	}
	/### HVX-DMESG-BEGIN/ { indmesg = 1; printf "" > dmesg; next }
	/### HVX-DMESG-END/ { indmesg = 0; next }
	indmesg { print > dmesg; next }
	cur != "" { print > (dir "/" cur ".tap") }
	' "$serial"

	for t in $(emu_tests "$e"); do
		if [[ -f "$dir/$t.rc" ]]; then
			rc=$(<"$dir/$t.rc")
		elif [[ -f "$dir/$t.tap" ]]; then
			rc=none
		else
			rc=notrun
			: >"$dir/$t.tap"
		fi
		while IFS=$'\037' read -r kind name reason; do
			result "$kind" "$e/$t${name:+/$name}" "$reason"
		done < <(awk -v rc="$rc" -v tmo="$test_timeout" "$TAP_AWK" "$dir/$t.tap")
	done

	# The kexec step (init.sh runs vmxlife_test --kexec after the suite):
	# the kexec'd kernel must bring up as many CPUs as the first had.
	if grep -aq '### HVX-KEXEC-BEGIN' "$serial"; then
		local kx=$e/vmxlife_test/kexec_with_running_vm go boot why
		# vms=gone: a kernel that cannot kexec with VMs alive (< 6.8).
		if grep -aq '### HVX-KEXEC-GO .*vms=gone' "$serial"; then
			kx=$e/vmxlife_test/kexec_after_vms_gone
		fi
		go=$(grep -a -o '### HVX-KEXEC-GO cpus=[0-9]*' "$serial" | tail -n1 | sed 's/.*=//' || true)
		boot=$(grep -a -o '### HVX-KEXEC-BOOT cpus=[0-9]*' "$serial" | tail -n1 | sed 's/.*=//' || true)
		why=$(grep -a -o '### HVX-KEXEC-\(SKIP\|FAIL\) .*' "$serial" | head -n1 | tr -d '\r' || true)
		if [[ $why == *SKIP* ]]; then
			result SKIP "$kx" "${why#*SKIP }"
		elif [[ -n $why ]]; then
			result FAIL "$kx" "${why#*FAIL }"
		elif [[ -z $go ]]; then
			result FAIL "$kx" "vmxlife_test --kexec ended without reaching reboot"
		elif [[ -z $boot ]]; then
			result FAIL "$kx" "the kexec'd kernel did not reach /init"
		elif [[ $boot != "$go" ]]; then
			result FAIL "$kx" "the kexec'd kernel brought up $boot of $go CPUs"
		else
			result PASS "$kx"
		fi
	fi

	# Health of the emulated host.
	local st=${STATUS[$e]:-unknown}
	if ! grep -aq '### HVX-BOOT' "$serial"; then
		result FAIL "$e/boot" "/init never ran (emulator: $st); see $serial and $OUT/$e-stdout.log"
	fi
	rc=$(grep -a -o '### HVX-INSMOD rc=[0-9]*' "$serial" | head -n1 | sed 's/.*rc=//' || true)
	if [[ -n "$rc" && "$rc" != 0 ]]; then
		result FAIL "$e/insmod" "insmod hvx.ko failed (rc=$rc); see $serial"
	fi
	if ! grep -aq '### HVX-ALLDONE' "$serial"; then
		result FAIL "$e/alldone" "### HVX-ALLDONE missing (emulator: $st)"
	fi
	# kmemleak, on kernels that have it (make check-debug).
	local leaks
	leaks=$(grep -a -o '### HVX-KMEMLEAK count=[0-9]*' "$serial" | sed 's/.*=//' || true)
	if [[ -n "$leaks" && "$leaks" != 0 ]]; then
		result FAIL "$e/kmemleak" "$leaks unreferenced object(s) after the suite; see $serial"
	elif [[ -n "$leaks" ]]; then
		result PASS "$e/kmemleak"
	fi
	# Kernel trouble anywhere in the console output or the final dmesg.
	# Lines the tests print as TAP (ok/not ok/#) are not kernel messages.
	local bad
	# An OOM kill (mem_test drives a VM owner over its memcg limit on
	# purpose) prints the allocating task's stack: that "Call Trace" is
	# the report, not a kernel bug, so it is dropped when it follows an
	# "invoked oom-killer" line within three lines.
	bad=$(tr -d '\r' <"$serial" | known_boot_warnings |
		awk '/invoked oom-killer/ { oom = NR }
		     /Call Trace/ && oom && NR - oom <= 3 { $0 = "(oom report stack)" }
		     { print }' | grep -a -n -E \
		'Oops|BUG:|kernel BUG|WARNING:|Kernel panic|general protection|Call Trace' |
		grep -a -v -E '^[0-9]+:(#|ok |not ok )' || true)
	if [[ -n "$bad" ]]; then
		result FAIL "$e/kernel" "oops/BUG/WARNING/panic in $serial:"
		head -n 40 <<<"$bad" | sed 's/^/        /' | tee -a "$RESULTS"
	fi
}

echo
echo "==================== hvx check results ===================="
for e in $EMUS; do
	report_emu "$e"
done

wall=$((SECONDS - T_START))
echo
for e in $EMUS; do
	echo "$e: ${STATUS[$e]:-not run}; logs: $OUT/$e-serial.log$([[ $e == bochs* ]] && echo ", $OUT/$e.log"), TAP: $OUT/$e/"
done
printf 'wall time: %dm%02ds\n' $((wall / 60)) $((wall % 60))
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped" >>"$RESULTS"

((NFAIL == 0 && NPASS > 0))
