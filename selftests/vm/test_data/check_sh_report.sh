#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The result step of the bash check.sh that hvxcheck.py replaced, kept
# verbatim as the reference for hvxcheck_test.py's parity test: the same
# serial logs must give the same result lines and results.txt.
#
# Usage: OUT=DIR EMUS="qemu ..." TESTS_LIST="a_test b_test" test_timeout=300 \
#        bash check_sh_report.sh [EMU=STATUS ...]
# (BOCHS_SPEC_TESTS as lib.sh; status "unknown" when not given)

set -euo pipefail
: "${OUT:?}" "${EMUS:?}" "${TESTS_LIST:?}" "${test_timeout:?}"
BOCHS_SPEC_TESTS=${BOCHS_SPEC_TESTS:-spec_test exits_test events_test}
NOIR_TEST=passthrough_test
read -r -a tests <<<"$TESTS_LIST"
declare -A STATUS=()
for a in "$@"; do STATUS[${a%%=*}]=${a#*=}; done

emu_tests() {
	local t
	for t in "${tests[@]}"; do
		[[ $1 == bochs-spec && " $BOCHS_SPEC_TESTS " != *" $t "* ]] && continue
		[[ $1 == qemu-nointremap && $t != "$NOIR_TEST" ]] && continue
		echo "$t"
	done
	return 0
}

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
	bad=$(tr -d '\r' <"$serial" |
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

echo
for e in $EMUS; do
	echo "$e: ${STATUS[$e]:-not run}; logs: $OUT/$e-serial.log$([[ $e == bochs* ]] && echo ", $OUT/$e.log"), TAP: $OUT/$e/"
done
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
echo "$NPASS passed, $NFAIL failed, $NSKIP skipped" >>"$RESULTS"

((NFAIL == 0 && NPASS > 0))
