#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: show a real Linux guest booting under hvx.
#
# Natively when this machine has VT-x and hvx.ko loads (the guest is the
# running kernel, /boot/vmlinuz-$(uname -r)); otherwise inside Bochs: the
# emulated host boots the Debian kernel, loads hvx.ko and runs hvx-run
# with the same kernel as guest (check.sh's machinery, with one "test",
# the demo script below). Either way the guest prints its kernel version,
# the hypervisor's CPUID signature and its PCI devices, and powers off;
# the guest's console streams here, and the demo ends with hvx-run's
# summary line (run time in TSC cycles, which under Bochs are emulated
# instructions, and VM exits by reason).
#
# Environment (set by the top-level Makefile): HVX_BUILD, HVX_KO (built
# against the emulated host's kernel), HVX_RUN, HVX_HVXCTL, HVX_HOST_KVER.
# Optional: HVX_DEMO=bochs|native to force a path; HVX_DEMO_CPUS (2);
# HVX_DEMO_APPEND, the guest's command line.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
: "${HVX_BUILD:?set HVX_BUILD}" "${HVX_KO:?set HVX_KO}" "${HVX_RUN:?set HVX_RUN}"
CPUS=${HVX_DEMO_CPUS:-2}
DEMO=$HVX_BUILD/demo
# The guest's command line: fast boot (see selftests/README.md),
# and hvx.double=21 for the guest's /init to compute something.
APPEND=${HVX_DEMO_APPEND:-"console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests loglevel=4 panic=-1 hvx.double=21"}

say() { echo "demo: $*"; }

# Can this machine run hvx itself? VT-x in cpuinfo, and a module for the
# running kernel that loads (or is loaded) and creates a VM.
native_ok() {
	grep -qw vmx /proc/cpuinfo || { say "no VT-x on this CPU: using Bochs"; return 1; }
	[[ -d /lib/modules/$(uname -r)/build ]] ||
		{ say "no headers for the running kernel $(uname -r): using Bochs"; return 1; }
	# A copy of the module sources: hvx.ko in the tree stays the one
	# built for the emulated host.
	rm -rf "$DEMO/native-src" && mkdir -p "$DEMO/native-src" &&
		(cd "$REPO" && cp -r Kbuild Makefile kmod vmx ept iommu uapi "$DEMO/native-src/")
	make -C "$DEMO/native-src" module KDIR="/lib/modules/$(uname -r)/build" >"$DEMO/native-build.log" 2>&1 ||
		{ say "hvx.ko does not build for $(uname -r) (see $DEMO/native-build.log): using Bochs"; return 1; }
	if [[ ! -e /dev/hvx ]]; then
		insmod "$DEMO/native-src/hvx.ko" 2>"$DEMO/insmod.log" ||
			{ say "insmod hvx.ko failed: $(cat "$DEMO/insmod.log"): using Bochs"; return 1; }
	fi
	[[ -r /boot/vmlinuz-$(uname -r) ]] ||
		{ say "cannot read /boot/vmlinuz-$(uname -r): using Bochs"; return 1; }
}

mkdir -p "$DEMO"
mode=${HVX_DEMO:-}
if [[ -z "$mode" ]]; then
	if native_ok; then mode=native; else mode=bochs; fi
fi

if [[ $mode == native ]]; then
	IMG=$DEMO/img
	mkdir -p "$IMG"
	source "$HERE/guest.sh"
	hvx_guest_initrd "$IMG/guest-initrd.gz"
	say "booting /boot/vmlinuz-$(uname -r) under hvx with $CPUS vCPUs"
	exec "$HVX_RUN" --kernel "/boot/vmlinuz-$(uname -r)" \
		--initrd "$IMG/guest-initrd.gz" --mem 512M --cpus "$CPUS" \
		--append "$APPEND" --summary
fi

# --- Bochs ---------------------------------------------------------------
# check.sh with a tests directory holding only "demo", and its own
# build/demo/check output (the kernel download is shared with make check).
mkdir -p "$DEMO/tests" "$DEMO/b"
[[ -e "$DEMO/b/cache" ]] || ln -s "$HVX_BUILD/cache" "$DEMO/b/cache"
cat >"$DEMO/tests/demo" <<EOF
#!/bin/sh
# Runs in the emulated host (made by selftests/vm/demo.sh).
echo "demo: the emulated host runs Linux \$(uname -r) in Bochs; hvx.ko is loaded"
echo "demo: hvx-run --cpus $CPUS --mem 192M --kernel /lib/hvx/guest/vmlinuz (the same Debian kernel)"
hvx-run --kernel /lib/hvx/guest/vmlinuz --initrd /lib/hvx/guest/initrd.gz \\
	--mem 192M --cpus $CPUS --append "$APPEND" --summary </dev/null
rc=\$?
echo "demo: hvx-run exited with status \$rc"
exit \$rc
EOF
chmod 755 "$DEMO/tests/demo"

serial=$DEMO/b/check/bochs-serial.log
say "no VT-x here: booting an emulated host in Bochs (about a minute), then the guest in it"
HVX_BUILD=$DEMO/b HVX_TESTS_DIR=$DEMO/tests TESTS='^demo$' HVX_EMUS=bochs \
	HVX_TEST_TIMEOUT=1800 HVX_BOCHS_TIMEOUT=2400 \
	bash "$HERE/check.sh" >"$DEMO/check.log" 2>&1 &
pid=$!

# Stream the demo's part of the serial console while Bochs runs.
stream() {
	local printed=0 n running=1 on=0 state=$DEMO/stream.state
	while ((running)); do
		kill -0 "$pid" 2>/dev/null || running=0
		if [[ -f "$serial" ]]; then
			n=$(wc -l <"$serial")
			if ((n > printed)); then
				# Whether we are inside the demo's part carries over
				# from one chunk to the next (through $state).
				sed -n "$((printed + 1)),${n}p" "$serial" | tr -d '\r' |
					awk -v on="$on" -v state="$state" '
					     /### HVX-BEGIN demo/ { on = 1; next }
					     /### HVX-END demo/ { on = 0 }
					     on { print; fflush() }
					     END { print on > state }'
				on=$(cat "$state")
				printed=$n
			fi
		fi
		if ((running)); then sleep 1; fi
	done
	return 0
}
stream
rc=0
wait "$pid" || rc=$?

summary=$(tr -d '\r' <"$serial" 2>/dev/null | grep -a '^hvx-run: summary:' | tail -n1 || true)
result=$(grep -a -E '^(PASS|FAIL|SKIP) ' "$DEMO/check.log" | head -n5 || true)
echo
if ((rc == 0)) && [[ -n "$summary" ]]; then
	say "done: a Linux guest booted under hvx in Bochs (TSC cycles there = emulated instructions)"
	echo "$summary"
else
	say "FAILED (check.sh status $rc): $result"
	say "logs: $DEMO/check.log, $serial"
	exit 1
fi
