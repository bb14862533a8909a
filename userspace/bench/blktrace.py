#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""blktrace.py BOCHS_STDOUT HVX_KO: where the instructions of one traced
virtio-blk request go (selftests/vm/bench.sh, HVX_BENCH_BLK_TRACE=1).

The guest's hvx-blkperf --trace brackets one request per pass with Bochs
magic breakpoints; Bochs's debugger traces every instruction between them,
the emulated host's (L1) and the guest's (L2) alike. The guest runs the
host's kernel with nokaslr, so both have the same kernel addresses: an
instruction is the guest's from a successful VMLAUNCH/VMRESUME to the next
instruction at hvx's HOST_RIP (hvx_vmx_exit). Per window (pass) it prints
the instructions of each side by function, the VM exits, and each exit's
host instructions with the first hvx handler and the functions it spent
most in (the exit's reason is not in the trace; its handler names it).
/tests/syms's lines in the same log give the host's symbols.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchtool  # noqa: E402

PASSES = ["seq_write", "seq_read", "rand_write", "rand_read"]
KERNEL_TEXT = (0xffffffff81000000, 0xffffffffa0000000)
TOP = 25


def top(d, n):
    return sorted(d.items(), key=lambda x: (-x[1], x[0]))[:n]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    log, ko = sys.argv[1:]
    host = benchtool.Symbols(log, ["hvx=" + ko])
    guest = benchtool.Symbols(log, [])
    exit_rip = None
    for a, n in zip(host.addrs, host.names):
        if n == "hvx_vmx_exit [hvx]":
            exit_rip = a
    if exit_rip is None:
        benchtool.die("no hvx_vmx_exit in the symbols: did /tests/syms run?")

    windows, win = [], None
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("Tracing enabled for CPU"):
                win = {"l1": {}, "l2": {}, "n1": 0, "n2": 0, "exits": [],
                       "l1user": 0, "l2user": 0, "in_guest": True,
                       "pending_entry": None, "cur": None}
                continue
            if line.startswith("Tracing disabled for CPU"):
                if win is not None:
                    windows.append(win)
                win = None
                continue
            if win is None:
                continue
            m = benchtool.TRACE_RE.match(line.rstrip("\r\n"))
            if not m:
                continue
            cs = m.group(2)
            rip = int(m.group(3).replace("_", ""), 16)
            dis = m.group(4).rsplit(";", 1)[0].strip()
            mnem = dis.split()[0] if dis else "?"
            if win["pending_entry"] is not None:
                # The instruction after VMRESUME: in the guest unless the
                # entry failed (the next host instruction follows it).
                if rip != win["pending_entry"]:
                    win["in_guest"] = True
                    win["cur"] = None
                win["pending_entry"] = None
            if rip == exit_rip:
                win["in_guest"] = False
                win["cur"] = {"n": 0, "fn": {}, "first": None}
                win["exits"].append(win["cur"])
            if win["in_guest"]:
                win["n2"] += 1
                if cs != "0010":
                    win["l2user"] += 1
                    fn = "(guest user space)"
                elif KERNEL_TEXT[0] <= rip < KERNEL_TEXT[1]:
                    fn = guest.name(rip)
                else:
                    fn = "(guest modules)"
                win["l2"][fn] = win["l2"].get(fn, 0) + 1
                continue
            win["n1"] += 1
            if cs != "0010":
                win["l1user"] += 1
                fn = "(host user space)"
            else:
                fn = host.name(rip)
            win["l1"][fn] = win["l1"].get(fn, 0) + 1
            cur = win["cur"]
            if cur is None:	# host code before the first exit (none)
                cur = win["cur"] = {"n": 0, "fn": {}, "first": None}
                win["exits"].append(cur)
            cur["n"] += 1
            cur["fn"][fn] = cur["fn"].get(fn, 0) + 1
            if (cur["first"] is None and fn.endswith("[hvx]") and
                    ("handle" in fn or "exit_" in fn or "_io" in fn
                     or "mmio" in fn or "hlt" in fn or "msr" in fn)):
                cur["first"] = fn
            if mnem in ("vmresume", "vmlaunch"):
                win["pending_entry"] = rip + 3
    for i, w in enumerate(windows):
        name = PASSES[i] if i < len(PASSES) else f"window{i}"
        tot = w["n1"] + w["n2"]
        print(f"== {name}: {tot} instructions: guest (L2) {w['n2']} "
              f"(user {w['l2user']}), host (L1) {w['n1']} "
              f"(user {w['l1user']}), {len(w['exits'])} VM exits")
        print(f"-- guest by function (top {TOP})")
        for fn, n in top(w["l2"], TOP):
            print("  %8d %5.1f%%  %s" % (n, 100.0 * n / max(w["n2"], 1), fn))
        print(f"-- host by function (top {TOP})")
        for fn, n in top(w["l1"], TOP):
            print("  %8d %5.1f%%  %s" % (n, 100.0 * n / max(w["n1"], 1), fn))
        print("-- host instructions per exit: handler, then the top functions")
        for j, e in enumerate(w["exits"]):
            fns = ", ".join(f"{fn} {n}" for fn, n in top(e["fn"], 4))
            print(f"  #{j:<3d} {e['n']:7d}  {e['first'] or '?'}: {fns}")
        print()


if __name__ == "__main__":
    main()
