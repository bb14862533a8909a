# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Functions shared by the emulator runners check.sh (`make check`) and
# bench.sh (`make bench`); sourced, not run. The caller defines:
#
#   die MSG, log MSG    error exit and progress line of the caller
#   SCRIPT_NAME         the caller's file name, for generated files
#   HERE                selftests/vm (absolute)
#   CACHE, OUT, IMG     build/cache, the run's output dir, its image dir
#   KVER                emulated host kernel version
#   HVX_KO, HVX_HVXCTL  hvx.ko; optional static hvxctl
#
# Kernel command lines: CMDLINE_BOCHS, CMDLINE_QEMU, CMDLINE_QEMU_NOINTREMAP
# (set here).
# Functions: host_kernel (sets VMLINUZ, kmods), file_is_static,
# initramfs_base ROOT TIMEOUT, initramfs_pack ROOT, make_fast_kernel,
# setup_bochs_iso, setup_bochs, and start_emu/supervise/cleanup with
# their state in PID, T0, LIMIT, STATUS, DONE_AT, SERIAL.

# Kernel command lines. The common part is the fast one from
# selftests/README.md; `quiet` keeps the console to errors
# (the full log is dumped by /init at the end); cryptomgr.notests skips
# the crypto self-tests (15 emulated seconds in Bochs); edd=off skips
# BIOS disk probing. hvx.emu tells /init where it runs.
CMDLINE_COMMON="console=ttyS0,115200 nokaslr mitigations=off lsm= nowatchdog audit=0 cryptomgr.notests quiet"
# hugepagesz=1G hugepages=1 reserves, at boot, the 1 GiB page behind
# mem_test's 1 GiB EPT leaf test (run-time allocation of a gigantic page
# finds no free aligned GiB once the kernel has spread its allocations).
# For a free aligned GiB Bochs has 3 GiB of RAM (the BIOS's ACPI tables sit
# at the top of [2 GiB, 3 GiB)) and the fast kernel image asks the boot
# loader to put the initramfs below 1 GiB (make_fast_kernel). With more
# than 512 MiB Debian's kernel turns THP on for all anonymous memory
# ("always"); transparent_hugepage=never keeps the 4 KiB backing the tests
# count on (the THP test switches to madvise itself).
CMDLINE_BOCHS="$CMDLINE_COMMON tsc=reliable lpj=2000000 no_timer_check edd=off hvx.emu=bochs"
CMDLINE_BOCHS+=" hugepagesz=1G hugepages=1 transparent_hugepage=never"
# no_timer_check: under heavy host load TCG can miss Linux's IO-APIC
# timer check and panic ("timer doesn't work through Interrupt-remapped
# IO-APIC") before /init; the check proves nothing about hvx.
CMDLINE_QEMU="$CMDLINE_COMMON no_timer_check intel_iommu=on iommu=nopt hvx.emu=qemu"
# The boot whose intel-iommu has no interrupt remapping (intremap=off):
# passthrough_test's interrupt-isolation refusal, alone (check.sh).
CMDLINE_QEMU_NOINTREMAP="$CMDLINE_COMMON no_timer_check intel_iommu=on iommu=nopt hvx.emu=qemu-nointremap"
# HVX_KERNEL_APPEND: more parameters for both (e.g. "loglevel=7" to watch
# a slow boot on the serial log); HVX_BOCHS_MEM_MB: Bochs's RAM (3072);
# HVX_BOCHS_IPS: Bochs's emulated instructions per emulated second
# (50000000). Bochs's clocks run on its instruction count, so the IPS
# sets how many instructions fit in a timer tick: a kernel whose tick
# handler needs more than that (the debug kernel's at HZ=1000) does
# nothing but take ticks. make check-debug raises it.
if [[ -n "${HVX_KERNEL_APPEND:-}" ]]; then
	[[ "$HVX_KERNEL_APPEND" =~ ^[A-Za-z0-9_=,.:/\ -]*$ ]] ||
		{ echo "HVX_KERNEL_APPEND: only name=value words: $HVX_KERNEL_APPEND" >&2; exit 1; }
	CMDLINE_BOCHS+=" $HVX_KERNEL_APPEND"
	CMDLINE_QEMU+=" $HVX_KERNEL_APPEND"
	CMDLINE_QEMU_NOINTREMAP+=" $HVX_KERNEL_APPEND"
fi
BOCHS_MEM_MB=${HVX_BOCHS_MEM_MB:-3072}
[[ "$BOCHS_MEM_MB" =~ ^[0-9]+$ ]] ||
	{ echo "HVX_BOCHS_MEM_MB: not a number: $BOCHS_MEM_MB" >&2; exit 1; }
# HVX_BOCHS_CPU_MODEL: Bochs's CPU model for every Bochs configuration
# (corei7_haswell_4770; see selftests/README.md, "Bochs 2.7 CPU models
# and the speculation controls", for why).
BOCHS_CPU_MODEL=${HVX_BOCHS_CPU_MODEL:-corei7_haswell_4770}
[[ "$BOCHS_CPU_MODEL" =~ ^[a-z0-9_]+$ ]] ||
	{ echo "HVX_BOCHS_CPU_MODEL: not a Bochs model name: $BOCHS_CPU_MODEL" >&2; exit 1; }
BOCHS_IPS=${HVX_BOCHS_IPS:-50000000}
[[ "$BOCHS_IPS" =~ ^[1-9][0-9]{6,9}$ ]] ||
	{ echo "HVX_BOCHS_IPS: not a number from 1000000 to 9999999999: $BOCHS_IPS" >&2; exit 1; }

# ---------------------------------------------------------------------------
# The emulated host kernel: the Debian package, downloaded once into
# build/cache/ and unpacked there; or, with HVX_HOST_VMLINUZ (make
# check-debug), that image with its modules (kvm*.ko, the NIC drivers)
# found below HVX_HOST_MODULES_DIR. Sets VMLINUZ and kmods (the host's),
# and GUEST_VMLINUZ and GUEST_KMODS: the kernel that hvx-run boots as a
# guest is always the Debian package's, since a debug kernel would only
# slow the nested boot without checking anything more of hvx.

host_kernel() {
	local deb

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
					die "cannot download linux-image-$KVER (is it still in the archive? see selftests/README.md)"
			fi
			deb=$(ls "$CACHE"/linux-image-"$KVER"_*.deb | head -n1)
		fi
		rm -rf "$kdir"
		dpkg-deb -x "$deb" "$kdir"
		touch "$kdir/.unpacked"
	fi
	VMLINUZ=$kdir/boot/vmlinuz-$KVER
	[[ -f "$VMLINUZ" ]] || die "no $VMLINUZ in the package"
	kmods=$kdir/lib/modules/$KVER/kernel
	GUEST_VMLINUZ=$VMLINUZ
	GUEST_KMODS=$kmods
	if [[ -n "${HVX_HOST_VMLINUZ:-}" ]]; then
		VMLINUZ=$HVX_HOST_VMLINUZ
		kmods=${HVX_HOST_MODULES_DIR:?set HVX_HOST_MODULES_DIR with HVX_HOST_VMLINUZ}
		[[ -f "$VMLINUZ" ]] || die "HVX_HOST_VMLINUZ=$VMLINUZ not found"
	fi
}

# ---------------------------------------------------------------------------
# The initramfs (one image for every emulator).

file_is_static() { # no ELF interpreter (also true for scripts)
	local n
	n=$(readelf -l "$1" 2>/dev/null | grep -c 'program interpreter' || true)
	[[ $n == 0 ]]
}

# initramfs_base ROOT TIMEOUT: busybox, /init (init.sh) with a limit of
# TIMEOUT seconds per program, hvx.ko, hvxctl and KVM's modules under ROOT;
# the caller adds the programs to run to ROOT/tests. Needs host_kernel.
initramfs_base() {
	local root=$1 test_timeout=$2 applet m src

	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,tests,lib/hvx/kvm}

	# busybox-static and a link for each applet (no --install at boot).
	BUSYBOX=/bin/busybox
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
	[[ "${HVX_MODULE_PARAMS:-}" =~ ^[A-Za-z0-9_=,.\ -]*$ ]] ||
		die "HVX_MODULE_PARAMS: only name=value words: $HVX_MODULE_PARAMS"
	printf 'TEST_TIMEOUT=%s\nHVX_MODULE_PARAMS="%s"\n' "$test_timeout" \
		"${HVX_MODULE_PARAMS:-}" >"$root/etc/hvx-check.conf"
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
	# compare with KVM, and msr.ko (/dev/cpu/N/msr, for spec_test). busybox
	# insmod cannot read compressed modules.
	for m in kvm kvm-intel irqbypass msr; do
		copy_module "$kmods" "$m" "$root/lib/hvx/kvm"
	done
}

# has_module DIR NAME: whether NAME.ko (plain or compressed) is below DIR.
# find stops at the first: a `find | grep -q .` pipeline under pipefail
# fails when grep's early exit ends find with SIGPIPE.
has_module() {
	[[ -n $(find "$1" -name "$2.ko*" -print -quit) ]]
}

# run_has REGEX: whether a name in the array `tests` matches REGEX whole.
# Not `printf '%s\n' "${tests[@]}" | grep -q`: bash's printf writes a line
# at a time, so grep's exit at the first match can end it with SIGPIPE
# and, under pipefail, the test reads as absent (seen on a loaded
# machine: the tap module left out of the initramfs).
run_has() {
	local t
	for t in "${tests[@]}"; do
		[[ $t =~ ^($1)$ ]] && return 0
	done
	return 1
}

# copy_module DIR NAME DEST: NAME.ko found below DIR, plain or compressed
# (Debian compresses modules from 6.12 on), uncompressed into DEST/NAME.ko;
# nothing if DIR's modules.builtin lists it (the debug kernel builds msr in).
copy_module() {
	local src
	src=$(find "$1" -name "$2.ko" -o -name "$2.ko.xz" \
		-o -name "$2.ko.zst" -o -name "$2.ko.gz" | head -n1)
	if [[ -z "$src" ]] && grep -qs "/$2\.ko\$" "$1/modules.builtin"; then
		log "module $2 is built into the kernel"
		return 0
	fi
	[[ -n "$src" ]] || die "module $2 not found in $1"
	case "$src" in
	*.xz) xz -dc "$src" >"$3/$2.ko" ;;
	*.zst) zstd -qdc "$src" >"$3/$2.ko" ;;
	*.gz) gzip -dc "$src" >"$3/$2.ko" ;;
	*) cp "$src" "$3/$2.ko" ;;
	esac
}

# initramfs_pack ROOT: ROOT as a gzip'd cpio in $IMG/initrd.gz.
initramfs_pack() {
	local root=$1

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$IMG/initrd.gz"
	log "initramfs: $(du -h "$IMG/initrd.gz" | cut -f1)"
}

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
	put "$out" 0x22c 4 $((0x3fffffff))                   # initrd_addr_max: initramfs below 1 GiB
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

# ---------------------------------------------------------------------------
# Bochs's simulated network (ethmod=vnet) for the NE2000: a DHCP server
# (the client gets 192.168.10.15), a gateway that answers pings and a TFTP
# server at 192.168.10.1 serving the ethdev directory $IMG/ethdev, which
# holds NET_FILE (selftests/vm/net.sh fetches it).
NET_FILE=hvx-net.bin

# net_ethdev: $IMG/ethdev/$NET_FILE, 64 KiB of numbered lines (the same
# bytes on every machine, each 512-byte TFTP block different).
net_ethdev() {
	mkdir -p "$IMG/ethdev"
	[[ -s "$IMG/ethdev/$NET_FILE" ]] && return 0
	awk 'BEGIN { for (i = 0; i < 1024; i++)
		printf "hvx-net line %04d %045d\n", i, i * 7919 }' >"$IMG/ethdev/$NET_FILE"
}

# setup_bochs NAME CPUS [ONLY]: NAME.iso and NAME.bochsrc for CPUS CPUs;
# ONLY: a,b,c, the programs /init runs (hvx.only=; default all).
# bochs-smp (2 CPUs) exercises what one CPU cannot: VMXON on every CPU, a
# VMCS moving between CPUs, kicking a vCPU on another CPU. With two CPUs
# Bochs 2.7 stalls the 6.1 kernel's boot when idle CPUs halt (swapper/0
# blocked > 240 s before /init); idle=poll avoids it. The NE2000 is on
# the simulated network (net_ethdev); the e1000 is not (one vnet per Bochs).
#
# bochs-spec (1 CPU) boots with mitigations=auto instead of off, so that
# the host kernel sets up its own speculation mitigations and hvx's
# barriers follow them; /init runs only the programs in BOCHS_SPEC_TESTS
# there (hvx.only=), which keeps it to about three minutes.
#
# XHOST_IMG (check.sh sets it when xhost_test runs): a raw disk image that
# bochs and bochs-spec both get as ata1-master (model HVX-XHOST, the
# geometry of XHOST_IMG_SIZE), with hvx.xhost=save and hvx.xhost=restore:
# xhost_test saves a VM onto it in bochs and restores it in bochs-spec,
# which hvxcheck.py starts once bochs has ended.
BOCHS_SPEC_TESTS="spec_test exits_test events_test xhost_test"
XHOST_IMG_SIZE=$((8 * 16 * 63 * 512))	# cylinders=8, heads=16, spt=63
setup_bochs() {
	local name=$1 cpus=$2 cmdline=$CMDLINE_BOCHS xhost=

	((cpus > 1)) && cmdline+=" idle=poll"
	if [[ $name == bochs-spec ]]; then
		cmdline=${cmdline/mitigations=off/mitigations=auto}
		cmdline+=" hvx.only=${BOCHS_SPEC_TESTS// /,}"
	fi
	[[ -n "${3:-}" && $name != bochs-spec ]] && cmdline+=" hvx.only=$3"
	if [[ -n "${XHOST_IMG:-}" && ( $name == bochs || $name == bochs-spec ) ]]; then
		cmdline+=" hvx.xhost=$([[ $name == bochs ]] && echo save || echo restore)"
		xhost="ata1-master: type=disk, mode=flat, path=\"$XHOST_IMG\", cylinders=8, heads=16, spt=63, model=\"HVX-XHOST\""
	fi
	setup_bochs_iso "$name" "$cmdline"
	net_ethdev
	# Settings verified in selftests/README.md.
	cat >"$IMG/$name.bochsrc" <<-EOF
		# generated by selftests/vm/$SCRIPT_NAME
		memory: guest=$BOCHS_MEM_MB, host=$((BOCHS_MEM_MB < 2048 ? BOCHS_MEM_MB : 2048))
		romimage: file=/usr/share/bochs/BIOS-bochs-latest
		vgaromimage: file=/usr/share/vgabios/vgabios.bin
		cpu: model=$BOCHS_CPU_MODEL, count=$cpus, ips=$BOCHS_IPS, reset_on_triple_fault=1
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
		ne2k: enabled=1, mac=52:54:00:12:34:57, ethmod=vnet, ethdev=$IMG/ethdev
	EOF
	[[ -z "$xhost" ]] || echo "$xhost" >>"$IMG/$name.bochsrc"
}

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
			elif grep -aq '### HVX-KEXEC-BEGIN' "${SERIAL[$e]}"; then
				# init.sh's kexec step (check.sh): done when either
				# kernel printed KEXEC-DONE. A second HVX-BOOT means
				# the machine reset and is running the suite again.
				if grep -aq '### HVX-KEXEC-DONE' "${SERIAL[$e]}"; then
					[[ -n "${DONE_AT[$e]:-}" ]] || DONE_AT[$e]=$now
					if ((now - DONE_AT[$e] > 20)); then
						STATUS[$e]="did not exit after the kexec step, stopped by $SCRIPT_NAME after $((now - T0[$e]))s"
					fi
				elif (($(grep -a -c '### HVX-BOOT ' "${SERIAL[$e]}") > 1)); then
					STATUS[$e]="reset instead of kexec, stopped by $SCRIPT_NAME after $((now - T0[$e]))s"
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
