#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-guest-text.sh OBJDUMP OBJECT: fail if the guest code of OBJECT (its
# .text.guest section: GUEST_CODE functions, lib/x86.h) references code
# outside it other than the guest library (guest_*), or any undefined
# symbol not named guest_*. Guest code runs in the guest: libc and host
# code there could use SSE (no FPU state is set up) or ifunc-resolved
# routines (never relocated in the guest's copy).
set -eu
objdump=$1
obj=$2
{
	# Symbol table lines: "ADDR FLAGS SECTION<TAB>SIZE NAME": name, section.
	"$objdump" -t "$obj" | awk -F'\t' 'NF > 1 {
		n = split($1, a, " "); m = split($2, b, " "); print "S", b[m], a[n] }'
	"$objdump" -r -j .text.guest "$obj" 2>/dev/null | awk '
		$1 ~ /^[0-9a-f]+$/ && NF == 3 { print "R", $3 }'
} | awk -v obj="$obj" '
	$1 == "S" { sec[$2] = $3; next }
	{
		s = $2; sub(/[-+]0x[0-9a-f]+$/, "", s)
		d = (s in sec) ? sec[s] : s
		if ((d ~ /^\.text/ && d != ".text.guest") ||
		    (d == "*UND*" && s !~ /^guest_/))
			bad[s] = 1
	}
	END {
		for (s in bad) { list = list " " s; n++ }
		if (n) {
			print obj ": guest code must not reference:" list > "/dev/stderr"
			exit 1
		}
	}'
