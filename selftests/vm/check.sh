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
#   HVX_EMUS            emulators to run (default "bochs qemu")
#   HVX_TEST_TIMEOUT    per-test limit in seconds (overrides settings)
#   HVX_BOCHS_TIMEOUT   Bochs wall-clock limit in seconds (default 1500)
#   HVX_QEMU_TIMEOUT    QEMU wall-clock limit in seconds (default 600)
#   HVX_BOCHS_STOCK_KERNEL=1  boot Bochs from the stock compressed vmlinuz
#                       instead of the fastboot.S image (slower by ~2 min)

set -euo pipefail

T_START=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # selftests/vm
REPO=$(cd "$HERE/../.." && pwd)

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
EMUS=${HVX_EMUS:-bochs qemu bochs-smp}
BOCHS_TIMEOUT=${HVX_BOCHS_TIMEOUT:-1500}   # 25 min
QEMU_TIMEOUT=${HVX_QEMU_TIMEOUT:-600}      # 10 min

# Kernel command lines. The common part is the fast one from
# /work/shared/notes/emulators.md; `quiet` keeps the console to errors
# (the full log is dumped by /init at the end); cryptomgr.notests skips
# the crypto self-tests (15 emulated seconds in Bochs); edd=off skips
# BIOS disk probing. hvx.emu tells /init where it runs.
CMDLINE_COMMON="console=ttyS0,115200 nokaslr mitigations=off lsm= nowatchdog audit=0 cryptomgr.notests quiet"
CMDLINE_BOCHS="$CMDLINE_COMMON tsc=reliable lpj=2000000 no_timer_check edd=off hvx.emu=bochs"
CMDLINE_QEMU="$CMDLINE_COMMON intel_iommu=on iommu=nopt hvx.emu=qemu"

HVX_BUILD=$(realpath -m "$HVX_BUILD")
CACHE=$HVX_BUILD/cache
OUT=$HVX_BUILD/check
IMG=$OUT/img

[[ -f "$HVX_KO" ]] || die "module not found: HVX_KO=$HVX_KO"
[[ -d "$HVX_TESTS_DIR" ]] || die "test directory not found: HVX_TESTS_DIR=$HVX_TESTS_DIR"
HVX_KO=$(realpath "$HVX_KO")
HVX_TESTS_DIR=$(realpath "$HVX_TESTS_DIR")
for e in $EMUS; do
	[[ $e == bochs || $e == qemu || $e == bochs-smp ]] ||
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
# The emulated host kernel: the Debian package, downloaded once into
# build/cache/ and unpacked there.

kdir=$CACHE/linux-image-$KVER
if [[ ! -f "$kdir/.unpacked" ]]; then
	deb=$(ls "$CACHE"/linux-image-"$KVER"_*.deb 2>/dev/null | head -n1 || true)
	if [[ -z "$deb" ]]; then
		log "downloading linux-image-$KVER"
		# apt-get download writes to the current directory. As root it
		# warns that the download is unsandboxed; that is harmless.
		if ! (cd "$CACHE" && apt-get download "linux-image-$KVER"); then
			# A fresh machine may have empty package lists.
			log "apt-get download failed; running apt-get update and retrying"
			apt-get update
			(cd "$CACHE" && apt-get download "linux-image-$KVER") ||
				die "cannot download linux-image-$KVER (is it still in the archive? see selftests/vm/README.md)"
		fi
		deb=$(ls "$CACHE"/linux-image-"$KVER"_*.deb | head -n1)
	fi
	rm -rf "$kdir"
	dpkg-deb -x "$deb" "$kdir"
	touch "$kdir/.unpacked"
fi
VMLINUZ=$kdir/boot/vmlinuz-$KVER
[[ -f "$VMLINUZ" ]] || die "no $VMLINUZ in the package"

# ---------------------------------------------------------------------------
# The initramfs (one image for both emulators).

root=$IMG/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,tests,lib/hvx/kvm}

# busybox-static and a link for each applet (no --install at boot).
BUSYBOX=/bin/busybox
file_is_static() { # no ELF interpreter (also true for scripts)
	local n
	n=$(readelf -l "$1" 2>/dev/null | grep -c 'program interpreter' || true)
	[[ $n == 0 ]]
}
file_is_static "$BUSYBOX" || die "$BUSYBOX is not static: install busybox-static"
cp "$BUSYBOX" "$root/bin/busybox"
while read -r applet; do
	[[ -e "$root/$applet" ]] || ln -s /bin/busybox "$root/$applet"
done < <("$BUSYBOX" --list-full)

# A console node, in case the kernel opens it before /init mounts
# devtmpfs (mknod may be refused in some containers; /init copes).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'TEST_TIMEOUT=%s\n' "$test_timeout" >"$root/etc/hvx-check.conf"
install -m 755 "$HERE/init.sh" "$root/init"

cp "$HVX_KO" "$root/lib/hvx/hvx.ko"

# hvxctl, for the tests of the netlink family (they read $HVX_HVXCTL,
# which init.sh sets when the binary is here).
if [[ -n "${HVX_HVXCTL:-}" ]]; then
	[[ -x "$HVX_HVXCTL" ]] || die "HVX_HVXCTL=$HVX_HVXCTL is not an executable"
	file_is_static "$HVX_HVXCTL" || die "$HVX_HVXCTL is not static (the initramfs has no libc)"
	install -m 755 "$HVX_HVXCTL" "$root/usr/bin/hvxctl"
fi

# kvm.ko, kvm-intel.ko, irqbypass.ko of the same kernel, for tests that
# compare with KVM. busybox insmod cannot read compressed modules.
for m in kvm kvm-intel irqbypass; do
	src=$(find "$kdir/lib/modules/$KVER/kernel" -name "$m.ko" -o -name "$m.ko.xz" \
		-o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
	[[ -n "$src" ]] || die "module $m not found in linux-image-$KVER"
	case "$src" in
	*.xz) xz -dc "$src" >"$root/lib/hvx/kvm/$m.ko" ;;
	*.zst) zstd -qdc "$src" >"$root/lib/hvx/kvm/$m.ko" ;;
	*.gz) gzip -dc "$src" >"$root/lib/hvx/kvm/$m.ko" ;;
	*) cp "$src" "$root/lib/hvx/kvm/$m.ko" ;;
	esac
done

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

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$IMG/initrd.gz"
log "initramfs: $(du -h "$IMG/initrd.gz" | cut -f1)"

# ---------------------------------------------------------------------------
# A faster kernel for Bochs: Debian's vmlinuz decompresses itself (XZ) in
# about two minutes of Bochs wall time. make_fast_kernel builds a bzImage
# with the same real-mode setup code whose protected-mode part is
# fastboot.S followed by the decompressed kernel; see fastboot.S.

# make_fast_kernel VMLINUZ OUT WORKDIR
# Called as a condition, so `set -e` does not apply: every step checks.
make_fast_kernel() {
	local z=$1 out=$2 w=$3
	u8() { od -An -t u1 -j $(($2)) -N 1 "$1" | tr -d ' '; }
	u16() { od -An -t u2 -j $(($2)) -N 2 "$1" | tr -d ' '; }
	u32() { od -An -t u4 -j $(($2)) -N 4 "$1" | tr -d ' '; }
	put() { # FILE OFFSET NBYTES VALUE: write VALUE little-endian
		local s="" i
		for ((i = 0; i < $3; i++)); do s+=$(printf '\\x%02x' $((($4 >> (8 * i)) & 255))); done
		printf "%b" "$s" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
	}
	mkdir -p "$w" || return 1
	# Boot protocol (Documentation/x86/boot.rst): "HdrS" at 0x202,
	# version >= 2.15 for the fields patched below.
	[[ $(od -An -c -j 0x202 -N 4 "$z" | tr -d ' ') == HdrS ]] || { echo "not a bzImage"; return 1; }
	(($(u16 "$z" 0x206) >= 0x20f)) || { echo "boot protocol older than 2.15"; return 1; }
	local ss psize poff plen
	ss=$(u8 "$z" 0x1f1)
	((ss)) || ss=4
	psize=$(((ss + 1) * 512))           # boot sector + real-mode setup
	poff=$(u32 "$z" 0x248)              # payload_offset (from psize)
	plen=$(u32 "$z" 0x24c)              # payload_length
	dd if="$z" iflag=skip_bytes,count_bytes skip=$((psize + poff)) count="$plen" bs=1M status=none |
		xz -dc --single-stream >"$w/vmlinux" || { echo "cannot decompress the payload (not XZ?)"; return 1; }

	# Physical extent of the kernel and its entry point, from the ELF.
	local typ pa msz kdest="" kend=0 kentry
	while read -r typ _ _ pa _ msz _; do
		[[ $typ == LOAD ]] || continue
		if [[ -z "$kdest" ]] || ((pa < kdest)); then kdest=$((pa)); fi
		if ((pa + msz > kend)); then kend=$((pa + msz)); fi
	done < <(readelf -lW "$w/vmlinux")
	kentry=$(readelf -hW "$w/vmlinux" | sed -n 's/.*Entry point address:[[:space:]]*//p')
	[[ -n "$kdest" && "$kentry" =~ ^0x[0-9a-f]+$ ]] || { echo "cannot read the vmlinux ELF headers"; return 1; }
	kentry=$((kentry))

	# The flat image, as the decompressor would lay it out (by LMA).
	# .init.scratch, after bss, is all zeros: leave it to the stub.
	local drop=()
	if objcopy -O binary -j .init.scratch "$w/vmlinux" "$w/scratch.bin" 2>/dev/null &&
		[[ -s "$w/scratch.bin" ]] &&
		cmp -s -n "$(stat -c %s "$w/scratch.bin")" "$w/scratch.bin" /dev/zero; then
		drop=(-R .init.scratch)
	fi
	objcopy -O binary "${drop[@]}" "$w/vmlinux" "$w/flat.bin" || return 1
	local ksize kmemsz
	ksize=$((($(stat -c %s "$w/flat.bin") + 3) / 4 * 4))
	truncate -s "$ksize" "$w/flat.bin" || return 1
	kmemsz=$(((kend - kdest + 3) / 4 * 4))
	if ! ((kdest >= 0x1000000 && ksize <= kmemsz && kentry >= kdest && kentry < kdest + ksize)); then
		echo "unexpected vmlinux layout"
		return 1
	fi

	as --64 --defsym KSIZE=$ksize --defsym KMEMSZ=$kmemsz \
		--defsym KDEST=$kdest --defsym KENTRY=$kentry \
		-o "$w/stub.o" "$HERE/fastboot.S" || return 1
	ld -m elf_x86_64 -Ttext=0 -e _start --oformat binary -o "$w/stub.bin" "$w/stub.o" || return 1
	(($(stat -c %s "$w/stub.bin") <= 0xc00)) || { echo "stub larger than 3 KiB"; return 1; }
	truncate -s $((0x7000)) "$w/stub.bin" || return 1

	head -c "$psize" "$z" >"$out" || return 1
	cat "$w/stub.bin" "$w/flat.bin" >>"$out" || return 1
	local prot=$((0x7000 + ksize))
	put "$out" 0x1f4 4 $(((prot + 15) / 16))             # syssize
	put "$out" 0x234 1 0                                 # relocatable_kernel: load at 0x100000
	put "$out" 0x236 2 0                                 # xloadflags: no 64-bit/EFI entry points
	put "$out" 0x248 4 0                                 # payload_offset
	put "$out" 0x24c 4 0                                 # payload_length
	put "$out" 0x260 4 $(((prot + 4095) / 4096 * 4096))  # init_size
	put "$out" 0x264 4 0                                 # handover_offset
	put "$out" 0x268 4 0 || return 1                     # kernel_info_offset
	rm -f "$w/vmlinux" "$w/flat.bin" "$w/scratch.bin"
}

# ---------------------------------------------------------------------------
# Bochs boots from an ISOLINUX CD (it cannot load a kernel directly).

# setup_bochs_iso NAME CMDLINE: $IMG/NAME.iso booting the kernel with CMDLINE.
setup_bochs_iso() {
	local name=$1 cmdline=$2 iso=$IMG/$1-iso

	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	if [[ -f $IMG/fast-vmlinuz ]]; then
		cp "$IMG/fast-vmlinuz" "$iso/vmlinuz"	# built for an earlier ISO
	elif [[ "${HVX_BOCHS_STOCK_KERNEL:-0}" != 1 ]] &&
		make_fast_kernel "$VMLINUZ" "$iso/vmlinuz" "$IMG/fastboot" >"$IMG/fastboot.log" 2>&1; then
		cp "$iso/vmlinuz" "$IMG/fast-vmlinuz"
		log "bochs: booting the uncompressed kernel (fastboot.S)"
	else
		[[ "${HVX_BOCHS_STOCK_KERNEL:-0}" == 1 ]] ||
			log "warning: fast kernel image failed ($(tail -n1 "$IMG/fastboot.log")); booting the stock vmlinuz (slow)"
		cp "$VMLINUZ" "$iso/vmlinuz"
	fi
	cp "$IMG/initrd.gz" "$iso/initrd.gz"
	cat >"$iso/isolinux/isolinux.cfg" <<-EOF
		DEFAULT hvx
		PROMPT 0
		TIMEOUT 0
		LABEL hvx
		  KERNEL /vmlinuz
		  INITRD /initrd.gz
		  APPEND $cmdline
	EOF
	xorriso -as mkisofs -o "$IMG/$name.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$iso" >"$IMG/xorriso.log" 2>&1 ||
		{ cat "$IMG/xorriso.log" >&2; die "xorriso failed"; }
	# The Debian build has the debugger, which stops before the first
	# instruction: continue.
	echo c >"$IMG/bochs.rc"
}

# setup_bochs NAME CPUS: NAME.iso and NAME.bochsrc for CPUS CPUs.
# bochs-smp (2 CPUs) exercises what one CPU cannot: VMXON on every CPU, a
# VMCS moving between CPUs, kicking a vCPU on another CPU. With two CPUs
# Bochs 2.7 stalls the 6.1 kernel's boot when idle CPUs halt (swapper/0
# blocked > 240 s before /init); idle=poll avoids it.
setup_bochs() {
	local name=$1 cpus=$2 cmdline=$CMDLINE_BOCHS

	((cpus > 1)) && cmdline+=" idle=poll"
	setup_bochs_iso "$name" "$cmdline"
	# Settings verified in /work/shared/notes/emulators.md.
	cat >"$IMG/$name.bochsrc" <<-EOF
		# generated by selftests/vm/check.sh
		memory: guest=512, host=512
		romimage: file=/usr/share/bochs/BIOS-bochs-latest
		vgaromimage: file=/usr/share/vgabios/vgabios.bin
		cpu: model=corei7_haswell_4770, count=$cpus, ips=50000000, reset_on_triple_fault=1
		clock: sync=none, time0=local
		display_library: rfb, options="timeout=0"
		speaker: enabled=0
		ata0-master: type=cdrom, path="$IMG/$name.iso", status=inserted
		boot: cdrom
		com1: enabled=1, mode=file, dev="$OUT/$name-serial.log"
		log: $OUT/$name.log
		panic: action=fatal
		error: action=report
		pci: enabled=1, chipset=i440fx, slot1=e1000, slot2=ne2k
		e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=null
		ne2k: enabled=1, mac=52:54:00:12:34:57, ethmod=null
	EOF
}

# ---------------------------------------------------------------------------
# hvx-run (issue 6): when run_test (or the demo) is among the tests, add
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
# Run the emulators in parallel, each with a wall-clock limit, and stop
# them if they do not exit after /init is done or the kernel panicked.

declare -A PID=() T0=() LIMIT=() STATUS=() DONE_AT=() SERIAL=()

start_emu() { # name limit cmd...
	local e=$1 limit=$2
	shift 2
	SERIAL[$e]=$OUT/$e-serial.log
	: >"${SERIAL[$e]}"
	# No stdin (CI has none; the Bochs debugger reads it).
	(cd "$IMG" && exec "$@") </dev/null >"$OUT/$e-stdout.log" 2>&1 &
	PID[$e]=$!
	T0[$e]=$SECONDS
	LIMIT[$e]=$limit
	log "started $e (pid ${PID[$e]}, limit ${limit}s)"
}

alive() { # pid: running and not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

stop_pid() { # pid: TERM, then KILL
	local p=$1
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		alive "$p" || return 0
		sleep 0.5
	done
	kill -KILL "$p" 2>/dev/null || true
}

cleanup() {
	local e
	for e in "${!PID[@]}"; do
		if [[ -z "${STATUS[$e]:-}" ]] && alive "${PID[$e]}"; then
			stop_pid "${PID[$e]}"
		fi
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

last_marker() { # serial file: the last marker, for progress lines
	grep -a -o '### HVX-[A-Z]*[^#]*' "$1" 2>/dev/null | tail -n1 | tr -d '\r' || true
}

supervise() {
	local running=1 e now rc last_beat=$SECONDS
	while ((running)); do
		sleep 2
		running=0
		now=$SECONDS
		for e in "${!PID[@]}"; do
			[[ -n "${STATUS[$e]:-}" ]] && continue
			if ! alive "${PID[$e]}"; then
				rc=0
				wait "${PID[$e]}" || rc=$?
				STATUS[$e]="exited rc=$rc after $((now - T0[$e]))s"
				log "$e ${STATUS[$e]}"
				continue
			fi
			running=1
			if ((now - T0[$e] > LIMIT[$e])); then
				STATUS[$e]="TIMEOUT: killed after the ${LIMIT[$e]}s wall-clock limit"
			elif grep -aq 'end Kernel panic' "${SERIAL[$e]}"; then
				# The kernel panicked: nothing more will come.
				[[ -n "${DONE_AT[$e]:-}" ]] || DONE_AT[$e]=$now
				if ((now - DONE_AT[$e] >= 6)); then
					STATUS[$e]="kernel panic, stopped by check.sh after $((now - T0[$e]))s"
				fi
			elif grep -aq '### HVX-DMESG-END' "${SERIAL[$e]}"; then
				# Finished but still running: allow some seconds
				# to power off, then stop it.
				[[ -n "${DONE_AT[$e]:-}" ]] || DONE_AT[$e]=$now
				if ((now - DONE_AT[$e] > 20)); then
					STATUS[$e]="did not exit after power-off, stopped by check.sh after $((now - T0[$e]))s"
				fi
			fi
			if [[ -n "${STATUS[$e]:-}" ]]; then
				log "$e ${STATUS[$e]}"
				stop_pid "${PID[$e]}"
				wait "${PID[$e]}" 2>/dev/null || true
			fi
		done
		# A heartbeat, so CI logs show progress.
		if ((running && now - last_beat >= 60)); then
			last_beat=$now
			for e in "${!PID[@]}"; do
				[[ -n "${STATUS[$e]:-}" ]] ||
					log "$e running $((now - T0[$e]))s: $(last_marker "${SERIAL[$e]}")"
			done
		fi
	done
}

for e in $EMUS; do
	case $e in
	bochs | bochs-smp)
		setup_bochs "$e" "$([[ $e == bochs-smp ]] && echo 2 || echo 1)"
		start_emu "$e" "$BOCHS_TIMEOUT" \
			bochs -q -f "$IMG/$e.bochsrc" -rc "$IMG/bochs.rc"
		;;
	qemu)
		start_emu qemu "$QEMU_TIMEOUT" \
			qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 512 \
			-nographic -monitor none -serial "file:$OUT/qemu-serial.log" \
			-no-reboot -kernel "$VMLINUZ" -initrd "$IMG/initrd.gz" \
			-append "$CMDLINE_QEMU" \
			-device intel-iommu,intremap=on -device edu
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
	if (dir == "skip") { ns++; out("SKIP", name, reason == "" ? "skipped" : reason) }
	else if (dir == "todo" && notok) { ns++; out("SKIP", name, "TODO" (reason == "" ? "" : ": " reason)) }
	else if (notok && dir != "xfail") { nf++; out("FAIL", name, "") }
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

	for t in "${tests[@]}"; do
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
	# Kernel trouble anywhere in the console output or the final dmesg.
	# Lines the tests print as TAP (ok/not ok/#) are not kernel messages.
	local bad
	bad=$(tr -d '\r' <"$serial" | grep -a -n -E \
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
