#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh RAW OUTDIR [UNIT]: turn hvx-bench's output (the BENCHOP and
# BENCH lines, see bench.c; BENCHX lines, exits by reason, from bench.sh's
# linux_boot rows) into
#
#   - a table on stdout: operation, hvx, KVM, hvx/KVM, verdict;
#   - OUTDIR/results.json: the same figures with min/max, iterations and
#     rounds, and for each row not measured the reason;
#   - OUTDIR/ratios.png: a bar plot of hvx/KVM per operation (gnuplot;
#     skipped with a note if gnuplot is missing).
#
# UNIT names what the figures count (default "TSC ticks per operation";
# under Bochs with clock sync=none, "emulated instructions per operation").
# Each operation's target is an hvx/KVM ratio of the figures (TARGETS
# below: the in-kernel exits 0.5, the exits to userspace 0.6, EPT
# fault-in 0.8, the Linux boot 0.9 and fewer exits than KVM by more than
# the 0.1% the count moves between runs; 0.5 for a row not listed); the table says which rows meet it and which are slower
# than KVM. benchtool.py's markdown adds the modelled-cycle targets.
#
# "BENCHCYC HV OP CYCLES HOSTINSN GUESTINSN" lines (benchtool.py trace)
# give the modelled cycles of one traced round trip: the table shows them
# beside the instruction figures, the JSON has hvx_model_cycles,
# kvm_model_cycles and model_ratio, and the plot a second bar per row.
#
# Rows with a "BENCHBASE OP host lower|higher" line (the NIC rows from
# bench.sh) have no KVM figure: they compare the guest under hvx ("BENCH
# hvx OP ...") with the emulated host driving the same device itself, no
# VM ("BENCH host OP ..."), each in the unit its description names, lower
# or higher being better. They get their own table (guest, bare host,
# guest/host), "baseline": "host" in the JSON, and are not plotted; a
# figure there wins over an "n/a" line for the same operation.

set -euo pipefail

raw=${1:?usage: report.sh RAW OUTDIR [UNIT]}
outdir=${2:?usage: report.sh RAW OUTDIR [UNIT]}
unit=${3:-TSC ticks per operation}
target=0.5
# OP=INSTRUCTIONS[/MODELLED-CYCLES] (results.json: target, model_target).
TARGETS="cpuid=0.5/0.6 vmcall=0.5/0.6 pio_kernel=0.5/0.6 ipi=0.5/0.6 hlt_wake=0.5/0.6
pio_user=0.6/0.6 mmio_user=0.6/0.6 ept_fault=0.8/0.8 linux_boot=0.9 linux_boot_exits=0.999"

[[ -r "$raw" ]] || { echo "report.sh: cannot read $raw" >&2; exit 1; }
mkdir -p "$outdir"
json=$outdir/results.json
dat=$outdir/ratios.dat
png=$outdir/ratios.png
rm -f "$png"

awk -v unit="$unit" -v target="$target" -v targets="$TARGETS" -v json="$json" -v dat="$dat" '
BEGIN {
	n = split(targets, t, /[ \n]+/)
	for (i = 1; i <= n; i++) {
		split(t[i], kv, "="); split(kv[2], q, "/")
		tg[kv[1]] = q[1]
		if (q[2] != "") tgc[kv[1]] = q[2]
	}
}
function target_of(op) { return op in tg ? tg[op] : target }
function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return s }
function rest(from,   s, i) { s = ""; for (i = from; i <= NF; i++) s = s (i > from ? " " : "") $i; return s }
function fig(hv, op) { return (hv SUBSEP op) in med ? sprintf("%.1f", med[hv, op]) : "n/a" }
function cyc(hv, op) { return (hv SUBSEP op) in cy ? sprintf("%.0f", cy[hv, op]) : "-" }
function hvjson(hv, op) {
	if ((hv SUBSEP op) in med)
		return sprintf("{ \"median\": %.1f, \"min\": %.1f, \"max\": %.1f, \"iterations\": %d, \"rounds\": %d }",
			       med[hv, op], mn[hv, op], mx[hv, op], it[hv, op], rd[hv, op])
	return "null"
}
# The BENCHX lines: a table per operation and source, and "exits_by_reason"
# in the JSON. Sources: vmx (basic exit reasons: the hvx statistics; the KVM
# kvm_exit tracepoint in a separate, traced run), user (exits to the VMM),
# kstat (the KVM statistics counters), msr (RDMSR/WRMSR exits by MSR:
# the summary of hvx-run; the KVM kvm_msr tracepoint, traced run).
function exits_by_reason(   i, j, k, op, src, nm, hv, h, sep, sep2) {
	if (!nxops) return
	printf ",\n  \"exits_by_reason\": {" >> json
	for (i = 1; i <= nxops; i++) {
		op = xops[i]
		printf "%s\n    \"%s\": {", (i > 1 ? "," : ""), esc(op) >> json
		for (j = 1; j <= nxsrc[op]; j++) {
			src = xsrcs[op, j]
			printf "\n%s: exits by reason (%s)\n", desc[op] != "" ? desc[op] : op, \
				src == "vmx" ? "VM exits by basic exit reason; KVM: kvm_exit tracepoint, traced run" : \
				src == "user" ? "exits to the VMM" : src == "kstat" ? "KVM statistics counters" : \
				src == "msr" ? "RDMSR/WRMSR exits by MSR; KVM: kvm_msr tracepoint, traced run" : src
			printf "  %-36s %12s %12s\n", "reason", "hvx", "KVM"
			for (k = 1; k <= nxname[op, src]; k++) {
				nm = xname[op, src, k]
				printf "  %-36s %12s %12s\n", nm, \
					(("hvx" SUBSEP op SUBSEP src SUBSEP nm) in xv) ? xv["hvx", op, src, nm] : "-", \
					(("kvm" SUBSEP op SUBSEP src SUBSEP nm) in xv) ? xv["kvm", op, src, nm] : "-"
			}
			printf "%s\n      \"%s\": {", (j > 1 ? "," : ""), esc(src) >> json
			sep = ""
			for (h = 1; h <= 2; h++) {
				hv = h == 1 ? "hvx" : "kvm"
				if (!((hv SUBSEP op SUBSEP src) in xhv)) continue
				printf "%s \"%s\": {", sep, hv >> json
				sep2 = ""
				for (k = 1; k <= nxname[op, src]; k++) {
					nm = xname[op, src, k]
					if ((hv SUBSEP op SUBSEP src SUBSEP nm) in xv) {
						printf "%s \"%s\": %s", sep2, esc(nm), xv[hv, op, src, nm] >> json
						sep2 = ","
					}
				}
				printf " }" >> json
				sep = ","
			}
			printf " }" >> json
		}
		printf "\n    }" >> json
	}
	printf "\n  }" >> json
}
{ sub(/\r$/, "") }
# A second BENCHOP for an operation (the NIC rows of bench.sh for the
# placeholders of hvx-bench) replaces its description and keeps its place.
$1 == "BENCHOP" { if (!($2 in desc)) ops[++nops] = $2; desc[$2] = rest(3); next }
$1 == "BENCHBASE" && NF >= 4 { base[$2] = $3; better[$2] = $4; next }
$1 == "BENCHCYC" && NF >= 4 { cy[$2, $3] = $4; ncy++; next }
# BENCHX <hv> <op> <source> <name> <count>: exits by reason (linux_boot)
$1 == "BENCHX" && NF == 6 {
	if (!($3 in xop)) { xop[$3] = 1; xops[++nxops] = $3 }
	if (!(($3 SUBSEP $4) in xsrc)) { xsrc[$3, $4] = 1; xsrcs[$3, ++nxsrc[$3]] = $4 }
	if (!(($3 SUBSEP $4 SUBSEP $5) in xseen)) { xseen[$3, $4, $5] = 1; xname[$3, $4, ++nxname[$3, $4]] = $5 }
	xv[$2, $3, $4, $5] = $6; xhv[$2, $3, $4] = 1
	next
}
$1 == "BENCH" && NF >= 4 {
	hv = $2; op = $3
	if ($4 == "n/a") na[hv, op] = rest(5)
	else if ($4 == "error") { err[hv, op] = rest(5); nerr++ }
	else { med[hv, op] = $4; mn[hv, op] = $5; mx[hv, op] = $6; it[hv, op] = $7; rd[hv, op] = $8 }
	next
}
END {
	if (nops == 0) { print "report.sh: no BENCHOP lines in the input" > "/dev/stderr"; exit 1 }
	print "figures: " unit " (median of the rounds)"
	if (ncy) print "model: modelled cycles of one traced round trip (benchtool.py, costs.json)"
	printf "%-44s %12s %12s %8s %9s %9s %7s  %s\n", "operation", "hvx", "KVM", "hvx/KVM", "hvx model", "KVM model", "ratio", "verdict"
	printf "%-44s %12s %12s %8s %9s %9s %7s  %s\n", "---------", "---", "---", "-------", "---------", "---------", "-----", "-------"
	printf "{\n  \"unit\": \"%s\",\n  \"target_ratio\": %s,\n  \"operations\": [\n", esc(unit), target > json
	printf "" > dat
	nbased = 0
	for (i = 1; i <= nops; i++) {
		op = ops[i]; ratio = ""; verdict = ""; mratio = ""
		if (("hvx" SUBSEP op) in cy && ("kvm" SUBSEP op) in cy && cy["kvm", op] > 0)
			mratio = cy["hvx", op] / cy["kvm", op]
		if (op in base) { based[++nbased] = op; continue }
		if (("hvx" SUBSEP op) in med && ("kvm" SUBSEP op) in med && med["kvm", op] > 0) {
			ratio = med["hvx", op] / med["kvm", op]
			if (ratio <= target_of(op)) verdict = "meets target"
			else if (ratio <= 1) verdict = sprintf("above target (<= %g)", target_of(op))
			else verdict = sprintf("SLOWER than KVM (%.2fx)", ratio)
			printf "%s %.4f %s\n", op, ratio, mratio == "" ? "-" : sprintf("%.4f", mratio) >> dat
		} else {
			why = ""
			if (("hvx" SUBSEP op) in err) why = "hvx error: " err["hvx", op]
			else if (("kvm" SUBSEP op) in err) why = "KVM error: " err["kvm", op]
			else if (("hvx" SUBSEP op) in na) why = "n/a (" na["hvx", op] ")"
			else if (("kvm" SUBSEP op) in na) why = "n/a (KVM: " na["kvm", op] ")"
			else why = "not run"
			verdict = why
		}
		printf "%-44s %12s %12s %8s %9s %9s %7s  %s\n", desc[op], fig("hvx", op), fig("kvm", op),
		       ratio == "" ? "-" : sprintf("%.2f", ratio), cyc("hvx", op), cyc("kvm", op),
		       mratio == "" ? "-" : sprintf("%.2f", mratio), verdict
		printf "%s    { \"name\": \"%s\", \"description\": \"%s\",\n", nout++ ? ",\n" : "", esc(op), esc(desc[op]) >> json
		printf "      \"hvx\": %s,\n      \"kvm\": %s,\n", hvjson("hvx", op), hvjson("kvm", op) >> json
		printf "      \"ratio\": %s, \"target\": %s, \"meets_target\": %s,\n", ratio == "" ? "null" : sprintf("%.4f", ratio),
		       target_of(op), ratio == "" ? "null" : (ratio <= target_of(op) ? "true" : "false") >> json
		printf "      \"model_target\": %s,\n", op in tgc ? tgc[op] : "null" >> json
		printf "      \"hvx_model_cycles\": %s, \"kvm_model_cycles\": %s, \"model_ratio\": %s,\n",
		       ("hvx" SUBSEP op) in cy ? cy["hvx", op] : "null", ("kvm" SUBSEP op) in cy ? cy["kvm", op] : "null",
		       mratio == "" ? "null" : sprintf("%.4f", mratio) >> json
		printf "      \"hvx_not_measured\": %s, \"kvm_not_measured\": %s }",
		       ("hvx" SUBSEP op) in na ? "\"" esc(na["hvx", op]) "\"" : (("hvx" SUBSEP op) in err ? "\"error: " esc(err["hvx", op]) "\"" : "null"),
		       ("kvm" SUBSEP op) in na ? "\"" esc(na["kvm", op]) "\"" : (("kvm" SUBSEP op) in err ? "\"error: " esc(err["kvm", op]) "\"" : "null") >> json
	}
	if (nbased) {
		print ""
		print "Rows without a KVM column: the guest under hvx against the same device driven by"
		print "the emulated host itself (no VM); the ratio is guest / bare host, not hvx / KVM."
		printf "%-44s %12s %12s %10s  %s\n", "operation", "hvx guest", "bare host", "guest/host", "verdict"
		printf "%-44s %12s %12s %10s  %s\n", "---------", "---------", "---------", "----------", "-------"
	}
	for (j = 1; j <= nbased; j++) {
		op = based[j]; b = base[op]; ratio = ""
		if (("hvx" SUBSEP op) in med && (b SUBSEP op) in med && med[b, op] > 0) {
			ratio = med["hvx", op] / med[b, op]
			if (better[op] == "higher")
				verdict = sprintf("guest reaches %.0f%% of the bare host", 100 * ratio)
			else
				verdict = sprintf("guest takes %.2fx the bare host", ratio)
		} else if (("hvx" SUBSEP op) in err) verdict = "hvx error: " err["hvx", op]
		else if ((b SUBSEP op) in err) verdict = "host error: " err[b, op]
		else verdict = "not run"
		printf "%-44s %12s %12s %10s  %s\n", desc[op], fig("hvx", op), fig(b, op),
		       ratio == "" ? "-" : sprintf("%.2f", ratio), verdict
		printf "%s    { \"name\": \"%s\", \"description\": \"%s\", \"baseline\": \"%s\", \"better\": \"%s\",\n",
		       nout++ ? ",\n" : "", esc(op), esc(desc[op]), esc(b), esc(better[op]) >> json
		printf "      \"hvx\": %s,\n      \"%s\": %s,\n      \"kvm\": null,\n", hvjson("hvx", op), esc(b), hvjson(b, op) >> json
		printf "      \"ratio\": %s, \"meets_target\": null,\n", ratio == "" ? "null" : sprintf("%.4f", ratio) >> json
		printf "      \"hvx_not_measured\": %s, \"kvm_not_measured\": \"no KVM column: compared with the %s\" }",
		       ("hvx" SUBSEP op) in err ? "\"error: " esc(err["hvx", op]) "\"" : "null",
		       b == "host" ? "bare emulated host (no VM)" : esc(b) >> json
	}
	printf "\n  ]" >> json
	exits_by_reason()
	printf "\n}\n" >> json
	exit nerr ? 2 : 0
}' "$raw" || rc=$?
rc=${rc:-0}
((rc == 0 || rc == 2)) || exit "$rc"

echo
echo "results: $json"
if [[ ! -s "$dat" ]]; then
	echo "plot: no operation measured under both hypervisors, no plot"
elif ! command -v gnuplot >/dev/null; then
	echo "plot: gnuplot not installed (Debian: gnuplot-nox), no plot"
else
	gnuplot <<-GP
		set terminal pngcairo size 900,500 noenhanced
		set output "$png"
		set title "hvx / KVM per operation (lower is better; target <= $target)"
		set style data histograms
		set style fill solid 0.8 border -1
		set boxwidth 0.7
		set yrange [0:*]
		set offsets 0.5, 0.5, 0.15, 0
		set ylabel "hvx / KVM"
		set xtics rotate by -30
		set grid ytics
		set datafile missing "-"
		plot "$dat" using 2:xtic(1) title "$unit" lc rgb "#4070a0", \
		     "" using 3 title "modelled cycles per round trip" lc rgb "#d08020", \
		     $target title "target" with lines lw 2 lc rgb "#20a020", \
		     1 title "KVM" with lines lw 2 dt 2 lc rgb "#c03030"
	GP
	echo "plot: $png"
fi
exit "$rc"
