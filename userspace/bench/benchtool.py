#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""benchtool.py - the benchmark's instruction-trace parser, cost model,
regression gate and generated report (userspace/bench/README.md).

Subcommands (standard library only):

  trace TRACE COSTS OUTDIR   parse the Bochs debugger's trace (bochs stdout
                             with "trace on" + "trace-reg on" between two
                             magic breakpoints per window), class each host
                             instruction, price it with COSTS (costs.json);
                             writes OUTDIR/trace.json and OUTDIR/classes.txt
                             and prints "BENCHCYC" lines for report.sh;
                             with --syms LOG (and --ko NAME=FILE.ko)
                             also OUTDIR/functions.txt: host instructions
                             by function
  merge RESULTS TRACEJSON    add each window's classes to results.json
  gate BASELINE RESULTS      exit 1 if an hvx figure rose more than the
                             baseline's tolerance (3%) above it
  baseline RESULTS OUT       write a new baseline from results.json
  markdown RESULTS OUT       the generated figures file (commit and date)
  shares TRACEJSON [--ratio R]
                             per operation, the part of the round trip both
                             hypervisors pay (the same host functions, user
                             space, the priced classes) and what hvx's own
                             part would have to be for hvx/KVM <= R
"""
import argparse
import bisect
import datetime
import json
import os
import re
import struct
import subprocess
import sys

# OP_* of bench.h, in order: the number the guest puts in its trace tag.
GUEST_OPS = ["cpuid", "vmcall", "pio_kernel", "pio_user", "mmio_user",
             "ept_fault", "ipi", "hlt_wake"]
HVS = ["hvx", "kvm"]            # bits 15:8 of the tag
TAG_MAGIC = 0xb3c4              # bits 31:16 (BENCH_TRACE_TAG)
GUEST_CS = "0008"               # bench.h SEL_CODE64; Linux runs at 0x10/0x33

# Host instruction classes, in table order: (key, label).
CLASSES = [
    ("vm_entry", "VMRESUME/VMLAUNCH + exit"),
    ("vmread", "VMREAD"),
    ("vmwrite", "VMWRITE"),
    ("rdmsr", "RDMSR"),
    ("wrmsr", "WRMSR"),
    ("xsave", "XSAVE*/FXSAVE"),
    ("xrstor", "XRSTOR*/FXRSTOR"),
    ("xsetbv", "XSETBV"),
    ("desc_table", "LGDT/LIDT/LLDT/LTR"),
    ("mov_cr_write", "MOV to CRn"),
    ("mov_cr_read", "MOV from CRn"),
    ("tlb_inv", "INVEPT/INVVPID/INVLPG/INVPCID"),
    ("rdtsc", "RDTSC/RDTSCP"),
    ("other", "other host instructions"),
]
CLASS_KEYS = [k for k, _ in CLASSES]

MSR_NAMES = {
    0x10: "TSC", 0x1b: "APIC_BASE", 0x3a: "FEATURE_CONTROL",
    0x48: "SPEC_CTRL", 0x49: "PRED_CMD", 0x10b: "FLUSH_CMD",
    0x174: "SYSENTER_CS", 0x175: "SYSENTER_ESP", 0x176: "SYSENTER_EIP",
    0x1d9: "DEBUGCTL", 0x277: "PAT", 0x6e0: "TSC_DEADLINE",
    0x38f: "PERF_GLOBAL_CTRL",
    0xc0000080: "EFER", 0xc0000081: "STAR", 0xc0000082: "LSTAR",
    0xc0000083: "CSTAR", 0xc0000084: "SFMASK", 0xc0000100: "FS_BASE",
    0xc0000101: "GS_BASE", 0xc0000102: "KERNEL_GS_BASE",
    0xc0000103: "TSC_AUX",
    0x4b564d00: "KVM_WALL_CLOCK", 0x4b564d01: "KVM_SYSTEM_TIME",
    0x4b564d03: "KVM_STEAL_TIME", 0x4b564d04: "KVM_PV_EOI_EN",
}

PREFIXES = {"rep", "repe", "repz", "repne", "repnz", "lock", "data16",
            "data32", "addr32", "addr16"}

TRACE_RE = re.compile(r"^\(\d+\)\.\[(\d+)\] \[0x[0-9a-f]+\] "
                      r"([0-9a-f]{4}):([0-9a-f_]+) \(.*?\): (.*)$")
# Functions shown per operation and hypervisor in functions.txt.
TOP_FUNCTIONS = 15
REG_RE = re.compile(r"^(rax|rcx): ([0-9a-f]{8})_([0-9a-f]{8})$")


def die(msg):
    print("benchtool: " + msg, file=sys.stderr)
    sys.exit(2)


def classify(disasm):
    """Class key of one Bochs disassembly (Intel syntax)."""
    words = disasm.split(None, 1)
    while words and words[0] in PREFIXES:
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words:
        return "other"
    m = words[0]
    ops = words[1] if len(words) > 1 else ""
    if m in ("vmresume", "vmlaunch"):
        return "vm_entry"
    if m in ("vmread", "vmwrite", "rdmsr", "wrmsr", "xsetbv"):
        return m
    if m.startswith(("xsave", "fxsave")):
        return "xsave"
    if m.startswith(("xrstor", "fxrstor")):
        return "xrstor"
    if m in ("lgdt", "lidt", "lldt", "ltr"):
        return "desc_table"
    if m == "mov" and re.match(r"cr\d", ops):
        return "mov_cr_write"
    if m == "mov" and re.search(r",\s*cr\d", ops):
        return "mov_cr_read"
    if m in ("invept", "invvpid", "invlpg", "invpcid"):
        return "tlb_inv"
    if m in ("rdtsc", "rdtscp"):
        return "rdtsc"
    return "other"


def new_window(tag):
    hv = (tag >> 8) & 0xff
    op = tag & 0xff
    if (tag >> 16) != TAG_MAGIC or hv >= len(HVS) or op >= len(GUEST_OPS):
        return None
    return {
        "hv": HVS[hv], "op": GUEST_OPS[op],
        "classes": {k: 0 for k in CLASS_KEYS},
        "msrs": {"rdmsr": {}, "wrmsr": {}},
        "guest_instructions": 0, "host_instructions": 0,
        "host_user_instructions": 0, "mnemonics": {},
        "rips": {},     # host kernel RIP -> instructions (not in trace.json)
    }


def parse_trace(path):
    """The traced windows of a Bochs stdout log, in order."""
    windows, win, tracing, rax, rcx, last = [], None, False, None, None, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("Tracing enabled for CPU"):
                tracing, win, rax, last = True, None, None, None
                continue
            if line.startswith("Tracing disabled for CPU"):
                if win is not None:
                    # The closing breakpoint itself is not part of the op.
                    if last == (GUEST_CS, "xchg"):
                        win["guest_instructions"] -= 1
                    windows.append(win)
                tracing, win = False, None
                continue
            if not tracing:
                continue
            m = REG_RE.match(line)
            if m:
                val = int(m.group(2) + m.group(3), 16)
                if m.group(1) == "rax":
                    rax = val
                else:
                    rcx = val
                continue
            m = TRACE_RE.match(line)
            if not m:
                continue
            if win is None:
                win = new_window(rax & 0xffffffff) if rax is not None else None
                if win is None:
                    die(f"{path}: a traced window without a bench tag "
                        f"(RAX {rax!r}): was hvx-bench run with --trace?")
            cs, disasm = m.group(2), m.group(4).rsplit(";", 1)[0].strip()
            mnem = disasm.split()[0] if disasm else "?"
            last = (cs, mnem)
            if cs == GUEST_CS:
                win["guest_instructions"] += 1
                continue
            cls = classify(disasm)
            win["host_instructions"] += 1
            win["classes"][cls] += 1
            if cs != "0010":
                win["host_user_instructions"] += 1
            else:
                rip = int(m.group(3).replace("_", ""), 16)
                win["rips"][rip] = win["rips"].get(rip, 0) + 1
            if cls in ("rdmsr", "wrmsr"):
                msr = "0x%x" % ((rcx or 0) & 0xffffffff)
                win["msrs"][cls][msr] = win["msrs"][cls].get(msr, 0) + 1
            if cls != "other":
                win["mnemonics"][mnem] = win["mnemonics"].get(mnem, 0) + 1
    if tracing and win is not None:
        die(f"{path}: the trace ends inside a window ({win['hv']} {win['op']})")
    return windows


def load_costs(path):
    with open(path) as f:
        costs = json.load(f)
    for k in CLASS_KEYS + ["guest"]:
        c = costs["classes"].get(k)
        if not c or not isinstance(c.get("cycles"), (int, float)) or not c.get("source"):
            die(f"{path}: class {k} needs \"cycles\" and \"source\"")
    return costs


def msr_cost(costs, cls, msr):
    ovr = costs.get("msr_overrides", {}).get(cls, {}).get(msr)
    return ovr["cycles"] if ovr else costs["classes"][cls]["cycles"]


def model(win, costs):
    """Modelled cycles of one window, in total and by class."""
    by = {}
    for k in CLASS_KEYS:
        n = win["classes"][k]
        if k in ("rdmsr", "wrmsr"):
            by[k] = sum(msr_cost(costs, k, msr) * c
                        for msr, c in win["msrs"][k].items())
        else:
            by[k] = n * costs["classes"][k]["cycles"]
    by["guest"] = win["guest_instructions"] * costs["classes"]["guest"]["cycles"]
    win["modelled_cycles_by_class"] = by
    win["modelled_cycles"] = sum(by.values())
    return win


def msr_label(msr):
    name = MSR_NAMES.get(int(msr, 16))
    return f"{msr} {name}" if name else msr


def class_tables(windows, costs):
    """Per-operation tables: hvx and KVM side by side, counts and cycles."""
    out = []
    byop = {}
    for w in windows:
        byop.setdefault(w["op"], {})[w["hv"]] = w
    out.append("Host instructions of one round trip, by class, and modelled cycles")
    out.append(f"(cost model: {costs['cpu']}; userspace/bench/costs.json)")
    for op in GUEST_OPS:
        if op not in byop:
            continue
        side = byop[op]
        h, k = side.get("hvx"), side.get("kvm")

        def cell(w, key, sub=None):
            if w is None:
                return "-", "-"
            if key == "guest":
                return str(w["guest_instructions"]), "%.0f" % w["modelled_cycles_by_class"]["guest"]
            if sub:
                n = w["msrs"][key].get(sub, 0)
                return (str(n), "%.0f" % (n * msr_cost(costs, key, sub))) if n else ("", "")
            return str(w["classes"][key]), "%.0f" % w["modelled_cycles_by_class"][key]

        out.append("")
        out.append(f"{op}:")
        out.append("  %-34s %8s %9s %8s %9s" % ("class", "hvx", "cycles", "KVM", "cycles"))
        for key, label in CLASSES:
            if not any(w and w["classes"][key] for w in (h, k)):
                continue
            a, b = cell(h, key)
            c, d = cell(k, key)
            out.append("  %-34s %8s %9s %8s %9s" % (label, a, b, c, d))
            if key in ("rdmsr", "wrmsr"):
                msrs = sorted(set((h or {}).get("msrs", {}).get(key, {})) |
                              set((k or {}).get("msrs", {}).get(key, {})),
                              key=lambda x: int(x, 16))
                for msr in msrs:
                    a, b = cell(h, key, msr)
                    c, d = cell(k, key, msr)
                    out.append("  %-34s %8s %9s %8s %9s" % ("  " + msr_label(msr), a, b, c, d))
        a, b = cell(h, "guest")
        c, d = cell(k, "guest")
        out.append("  %-34s %8s %9s %8s %9s" % ("guest (L2) instructions", a, b, c, d))
        tot = lambda w, f: "-" if w is None else "%.0f" % w[f]
        out.append("  %-34s %8s %9s %8s %9s" % ("host instructions / modelled cycles",
                   tot(h, "host_instructions"), tot(h, "modelled_cycles"),
                   tot(k, "host_instructions"), tot(k, "modelled_cycles")))
    return out


# ---------------------------------------------------------------------------
# Host symbols: which function each traced host RIP belongs to.
#
# The emulated host runs with nokaslr, but its kernel's symbols are not in
# Debian's package (System.map is a stub), so bench.sh's /tests/syms prints
# them through port 0xE9 (Bochs's stdout): /proc/kallsyms's text symbols
# and the load address of every section of hvx.ko, kvm.ko and
# kvm-intel.ko. The modules' own symbols come from their ELF symbol tables.

SHF_EXECINSTR = 0x4
SHT_SYMTAB = 2
STT_NOTYPE, STT_FUNC = 0, 2
# A RIP further than this past the symbol before it is not in that symbol.
MAX_FUNC_SIZE = 0x10000
KALLSYMS_RE = re.compile(r"^([0-9a-f]{16}) (\S+)$")


def elf_functions(path):
    """[(section, offset, size, name)] of an x86-64 relocatable ELF file's
    code symbols (functions and assembler labels in executable sections)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01":
        die(f"{path}: not a 64-bit little-endian ELF file")
    try:
        return elf_code_symbols(data)
    except (struct.error, IndexError, ValueError):
        die(f"{path}: a truncated or malformed ELF file")


def elf_code_symbols(data):
    """elf_functions() of the file's bytes (struct.error, IndexError or
    ValueError when they are cut short)."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    shdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
             for i in range(shnum)]

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode(errors="replace")

    names = [cstr(shdrs[shstrndx][4] + h[0]) for h in shdrs]
    out = []
    for h in shdrs:
        if h[1] != SHT_SYMTAB:
            continue
        stroff = shdrs[h[6]][4]
        for i in range(h[5] // 24):
            st_name, st_info, _, shndx, value, size = struct.unpack_from(
                "<IBBHQQ", data, h[4] + i * 24)
            if st_info & 0xf not in (STT_NOTYPE, STT_FUNC) or not st_name:
                continue
            if not 0 < shndx < shnum or not shdrs[shndx][2] & SHF_EXECINSTR:
                continue
            name = cstr(stroff + st_name)
            if name.startswith((".L", "__pfx_", "__cfi_")):
                continue
            out.append((names[shndx], value, size, name))
    return out


def read_syms(path):
    """/tests/syms's output in a log (Bochs's stdout, where port 0xE9
    prints): ({module: {section: address}}, [(address, name)] of the
    kernel's text symbols). The lines may follow a debugger prompt."""
    sections, lines, inside = {}, [], False
    with open(path, errors="replace") as f:
        for line in f:
            at = line.find("HVXSYMS ")
            if at >= 0:
                w = line[at:].split()
                if w[1:3] == ["kallsyms", "begin"]:
                    inside = True
                elif w[1:3] == ["kallsyms", "end"]:
                    inside = False
                elif (w[1:2] == ["section"] and len(w) == 5
                      and re.fullmatch(r"(0x)?[0-9a-f]+", w[4])):
                    sections.setdefault(w[2], {})[w[3]] = int(w[4], 16)
            elif inside:
                lines.append(line.strip())
    kallsyms = []
    for ln in lines:
        m = KALLSYMS_RE.match(ln)
        if m:
            kallsyms.append((int(m.group(1), 16), m.group(2)))
    return sections, kallsyms


class Symbols:
    """Address to function name: the kernel's and the modules'."""

    def __init__(self, log, kos):
        sections, kallsyms = read_syms(log)
        syms = list(kallsyms)
        for spec in kos:
            mod, eq, path = spec.partition("=")
            if not eq or not mod or not path:
                die(f"--ko {spec}: NAME=FILE.ko expected")
            base = sections.get(mod.replace("-", "_"))
            if not base:
                print(f"benchtool: {mod}: no section addresses in {log}", file=sys.stderr)
                continue
            for sec, off, _, name in elf_functions(path):
                if sec in base:
                    syms.append((base[sec] + off, f"{name} [{mod}]"))
        syms.sort()
        self.addrs = [a for a, _ in syms]
        self.names = [n for _, n in syms]
        self.count = len(syms)

    def name(self, rip):
        i = bisect.bisect_right(self.addrs, rip) - 1
        if i < 0 or rip - self.addrs[i] > MAX_FUNC_SIZE:
            return "?"
        return self.names[i]


def by_function(win, syms):
    """{function: host kernel instructions} of one window."""
    out = {}
    for rip, n in win["rips"].items():
        fn = syms.name(rip)
        out[fn] = out.get(fn, 0) + n
    if win["host_user_instructions"]:
        out["(host user space)"] = win["host_user_instructions"]
    return out


def function_tables(windows):
    """Per operation and hypervisor: the functions with the most host
    instructions in the round trip (the window the cost model kept)."""
    out = ["Host instructions of one round trip, by function (the same window as",
           "the class tables; kernel symbols from the emulated host's kallsyms,",
           "module symbols from hvx.ko, kvm.ko and kvm-intel.ko)"]
    for op in GUEST_OPS:
        for hv in HVS:
            w = next((w for w in windows if w["op"] == op and w["hv"] == hv), None)
            if w is None or "functions" not in w:
                continue
            fns = sorted(w["functions"].items(), key=lambda x: (-x[1], x[0]))
            total = w["host_instructions"]
            out += ["", f"{op} {hv}: {total} host instructions in {len(fns)} functions",
                    "  %8s %6s  %s" % ("instr", "share", "function")]
            for name, n in fns[:TOP_FUNCTIONS]:
                out.append("  %8d %5.1f%%  %s" % (n, 100.0 * n / total if total else 0, name))
            rest = sum(n for _, n in fns[TOP_FUNCTIONS:])
            if rest:
                out.append("  %8d %5.1f%%  (%d other functions)"
                           % (rest, 100.0 * rest / total if total else 0, len(fns) - TOP_FUNCTIONS))
    return out


def cmd_trace(a):
    costs = load_costs(a.costs)
    # Each operation is traced BENCH_TRACE_WINDOWS times; a host timer
    # tick can land in one window, not in all: keep the cheapest.
    best, order = {}, []
    for w in (model(w, costs) for w in parse_trace(a.trace)):
        key = (w["hv"], w["op"])
        if key not in best:
            order.append(key)
            w["windows_traced"] = 0
            w["modelled_cycles_of_each"] = []
            best[key] = w
        b = best[key]
        b["windows_traced"] += 1
        b["modelled_cycles_of_each"].append(w["modelled_cycles"])
        if w["modelled_cycles"] < b["modelled_cycles"]:
            w["windows_traced"] = b["windows_traced"]
            w["modelled_cycles_of_each"] = b["modelled_cycles_of_each"]
            best[key] = w
    windows = [best[k] for k in order]
    syms = Symbols(a.syms, a.ko or []) if a.syms else None
    if syms is not None and not syms.count:
        die(f"{a.syms}: no host symbols (did /tests/syms run?)")
    for w in windows:
        if syms is not None:
            w["functions"] = by_function(w, syms)
        del w["rips"]
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "trace.json"), "w") as f:
        json.dump({"cost_model": {"cpu": costs["cpu"], "file": "userspace/bench/costs.json"},
                   "windows": windows}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(a.outdir, "classes.txt"), "w") as f:
        f.write("\n".join(class_tables(windows, costs)) + "\n")
    if syms is not None:
        with open(os.path.join(a.outdir, "functions.txt"), "w") as f:
            f.write("\n".join(function_tables(windows)) + "\n")
    for w in windows:
        print("BENCHCYC %s %s %.0f %d %d" % (w["hv"], w["op"], w["modelled_cycles"],
                                            w["host_instructions"], w["guest_instructions"]))
    if not windows:
        die(f"{a.trace}: no traced window")


# Groups of the host functions both hypervisors run (cmd_shares), by name.
SHARE_GROUPS = [
    ("user space (the VMM's side)", re.compile(r"^\(host user space\)$")),
    ("FPU state swap", re.compile(r"fpu|fpregs|fpstate|xsave|xrstor|xfeature")),
    ("syscall entry and exit, ioctl", re.compile(
        r"^(entry_SYSCALL|do_syscall|syscall_|exit_to_user|__x64_sys_ioctl"
        r"|__fget|__fdget|fdget|fput|security_file_ioctl|.*user_return"
        r"|__rseq|rseq_|arch_exit|irqentry|ksys_ioctl)")),
    ("scheduler, idle, timers", re.compile(
        r"sched|idle|menu_select|tick|hrtimer|ktime|clock|psi_|rcu|timer"
        r"|update_|enqueue|dequeue|pick_|switch_|wake|load_avg|cpuacct"
        r"|finish_task|context_switch|__switch_to|native_|timekeeping")),
    ("memory: allocation, pinning, faults", re.compile(
        r"page|alloc|gup|follow_|mm|pte|pmd|pud|folio|lru|memcg|mtree"
        r"|vma|rmqueue|zone|account|fault|mas_")),
]


def share_group(name):
    for label, rx in SHARE_GROUPS:
        if rx.search(name):
            return label
    return "other kernel"


def cmd_shares(a):
    """What of each round trip both hypervisors pay, and so the lowest
    hvx/KVM ratio hvx could reach with its own part at zero.

    Instructions: a kernel function outside the hypervisors' modules (and
    host user space) is shared up to the smaller of its two counts; the
    rest of the round trip is the hypervisor's own (its module, and kernel
    work the other does not do). Modelled cycles: the shared instructions
    at one cycle, plus each priced class (VM entry, MSRs, XSAVE, ...) up
    to the smaller of the two, plus the guest's instructions."""
    with open(a.trace_json) as f:
        tr = json.load(f)
    wins = {(w["hv"], w["op"]): w for w in tr["windows"]}
    out = []
    for op in GUEST_OPS:
        h, k = wins.get(("hvx", op)), wins.get(("kvm", op))
        if not h or not k or "functions" not in h or "functions" not in k:
            continue
        hf, kf = h["functions"], k["functions"]
        mod = re.compile(r" \[(hvx|kvm|kvm-intel)\]$")
        groups = {}
        for fn in set(hf) & set(kf):
            if mod.search(fn):
                continue
            n = min(hf[fn], kf[fn])
            g = share_group(fn)
            groups[g] = groups.get(g, 0) + n
        shared = sum(groups.values())
        g_instr = min(h["guest_instructions"], k["guest_instructions"])
        ht = h["host_instructions"] + h["guest_instructions"]
        kt = k["host_instructions"] + k["guest_instructions"]
        hb, kb = h["modelled_cycles_by_class"], k["modelled_cycles_by_class"]
        priced = sum(min(hb[c], kb[c]) for c in hb if c not in ("other",))
        sc = shared + priced
        hc, kc = h["modelled_cycles"], k["modelled_cycles"]
        out += ["", f"{op}:",
                "  %-44s %9s %9s" % ("", "hvx", "KVM"),
                "  %-44s %9d %9d" % ("instructions, host and guest", ht, kt)]
        for label in [g for g, _ in SHARE_GROUPS] + ["other kernel"]:
            if groups.get(label):
                out.append("    shared: %-36s %9d" % (label, groups[label]))
        out += ["  %-44s %9d %9d" % ("own (the rest, guest's excluded)",
                                     ht - shared - g_instr, kt - shared - g_instr),
                "  lowest ratio (hvx's own part at 0): %.2f; %.2fx needs hvx's own <= %d"
                % ((shared + g_instr) / kt, a.ratio, a.ratio * kt - shared - g_instr),
                "  %-44s %9.0f %9.0f" % ("modelled cycles", hc, kc),
                "  %-44s %9.0f" % ("shared (functions above, priced classes, guest)", sc),
                "  lowest ratio: %.2f; %.2fx needs hvx's own <= %.0f cycles (now %.0f)"
                % (sc / kc, a.ratio, a.ratio * kc - sc, hc - sc)]
    if not out:
        die(f"{a.trace_json}: no operation traced with functions under both hypervisors")
    print("\n".join(["Shared part of each round trip (benchtool.py shares)"] + out))


def cmd_merge(a):
    with open(a.results) as f:
        res = json.load(f)
    with open(a.trace_json) as f:
        tr = json.load(f)
    wins = {(w["hv"], w["op"]): w for w in tr["windows"]}
    for op in res["operations"]:
        for hv in HVS:
            w = wins.get((hv, op["name"]))
            if w:
                op[hv + "_round_trip"] = {
                    "host_instructions": w["host_instructions"],
                    "host_user_instructions": w["host_user_instructions"],
                    "guest_instructions": w["guest_instructions"],
                    "classes": w["classes"], "msrs": w["msrs"],
                    "modelled_cycles": w["modelled_cycles"],
                    "modelled_cycles_by_class": w["modelled_cycles_by_class"],
                    "windows_traced": w["windows_traced"],
                    "modelled_cycles_of_each": w["modelled_cycles_of_each"],
                }
                if "functions" in w:
                    op[hv + "_round_trip"]["functions"] = w["functions"]
    res["cost_model"] = tr["cost_model"]
    with open(a.results, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


def figures(res):
    """{op: {hv: {"instructions": fastest round, "median_instructions": m,
    "modelled_cycles": c}}}

    The fastest round: a host timer tick lands in a round or not depending
    on where the boot left the tick, which a change anywhere in the host
    moves; the fastest of 5 rounds has none. The median too: the emulated
    host's batched work (a page allocator refill, say) can land in the
    fastest round instead, and then only that round moves (cmd_gate)."""
    out = {}
    for op in res["operations"]:
        if op["name"] not in GUEST_OPS:
            continue
        for hv in HVS:
            fig = {}
            if op.get(hv):
                fig["instructions"] = op[hv]["min"]
                fig["median_instructions"] = op[hv]["median"]
            rt = op.get(hv + "_round_trip")
            if rt:
                fig["modelled_cycles"] = rt["modelled_cycles"]
            if fig:
                out.setdefault(op["name"], {})[hv] = fig
    return out


def git_commit():
    """The commit measured: make's HVX_COMMIT (taken when make started),
    else what git says now."""
    if os.environ.get("HVX_COMMIT"):
        return os.environ["HVX_COMMIT"]
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"],
                              capture_output=True, text=True, check=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cmd_baseline(a):
    with open(a.results) as f:
        res = json.load(f)
    figs = figures(res)
    if not figs:
        die(f"{a.results}: no operation measured")
    base = {
        "what": "make bench-smoke (hvx-bench --quick --trace under Bochs): emulated "
                "instructions per operation (fastest and median of 5 rounds of 10) and modelled cycles "
                "of one round trip (cheapest of the traced windows)",
        "tolerance": 0.03,
        "measured_on": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "operations": figs,
    }
    with open(a.out, "w") as f:
        json.dump(base, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"benchtool: wrote {a.out} ({len(figs)} operations)")


LABEL = {"instructions": "instructions", "median_instructions": "median instr",
         "modelled_cycles": "model cycles"}


def rose(base, now, op, hv, metric, tol):
    """Did @metric of @op rise above the tolerance? Instructions count as
    risen only if the median rose too (where the baseline has it): hvx's
    own work is in every round, so a real regression raises both, while
    batched work of the emulated host that lands in another round moves
    the fastest alone. The median alone is not gated: a tick in 3 of 5
    rounds would move it."""
    b = base["operations"][op][hv][metric]
    n = now.get(op, {}).get(hv, {}).get(metric)
    if n is None or not b or (n - b) / b <= tol:
        return False
    if metric == "instructions":
        bm = base["operations"][op][hv].get("median_instructions")
        nm = now.get(op, {}).get(hv, {}).get("median_instructions")
        if bm and nm is not None and (nm - bm) / bm <= tol:
            return False
    return metric != "median_instructions"


def cmd_gate(a):
    with open(a.baseline) as f:
        base = json.load(f)
    with open(a.results) as f:
        res = json.load(f)
    tol = base.get("tolerance", 0.03)
    now = figures(res)
    fail = []
    print("bench gate: hvx against %s (measured on %s), fail above +%.0f%%"
          % (a.baseline, base.get("measured_on", "?"), tol * 100))
    print("  %-12s %-17s %12s %12s %8s" % ("operation", "figure", "baseline", "now", "change"))
    for op, sides in base["operations"].items():
        for hv, figs in sides.items():
            for metric, b in figs.items():
                n = now.get(op, {}).get(hv, {}).get(metric)
                if n is None:
                    msg = "%s %s %s: not measured" % (hv, op, metric)
                    if hv == "hvx":
                        fail.append(msg)
                    print("  %-12s %-17s %12.1f %12s %8s  %s" % (op, hv + " " + LABEL[metric], b, "-", "-",
                                                                 "FAIL" if hv == "hvx" else "note"))
                    continue
                ch = (n - b) / b if b else 0.0
                verdict = ""
                if rose(base, now, op, hv, metric, tol):
                    verdict = "FAIL" if hv == "hvx" else "note: KVM side moved"
                    if hv == "hvx":
                        fail.append("%s %s %s: %.1f -> %.1f (%+.1f%%)" % (hv, op, metric, b, n, ch * 100))
                elif ch > tol and metric == "median_instructions":
                    verdict = "gated together with the fastest round"
                elif ch > tol:
                    verdict = "the median held: not gated"
                elif ch < -tol:
                    verdict = "faster: refresh the baseline (make bench-baseline)"
                print("  %-12s %-17s %12.1f %12.1f %+7.1f%%  %s" % (op, hv + " " + LABEL[metric], b, n,
                                                                     ch * 100, verdict))
    if fail:
        print("bench gate: FAIL")
        for m in fail:
            print("  " + m)
        print("A change that makes hvx slower on purpose updates %s in the same commit "
              "(make bench-baseline) and says why." % a.baseline)
        sys.exit(1)
    print("bench gate: ok")


def fmt(v):
    if v is None:
        return "n/a"
    if float(v).is_integer() and v >= 10000:
        return "{:,}".format(round(v))
    return "%.1f" % v if isinstance(v, float) else str(v)


def cmd_markdown(a):
    with open(a.results) as f:
        res = json.load(f)
    classes = ""
    if a.classes and os.path.exists(a.classes):
        with open(a.classes) as f:
            classes = f.read()
    lines = [
        "# hvx benchmark figures (generated)",
        "",
        "Written by `%s` (selftests/vm/bench.sh, userspace/bench/benchtool.py); do not edit." % a.target,
        "",
        "- commit: `%s`" % git_commit(),
        "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- hvx-bench arguments: `%s`" % a.args.strip(),
        "- instructions: %s (median round)" % res.get("unit", "?"),
        "- modelled cycles: one warm round trip traced in Bochs, host instructions priced by class "
        "(userspace/bench/costs.json, userspace/bench/README.md)",
        "",
        "| operation | hvx instr | KVM instr | hvx/KVM | hvx model cycles | KVM model cycles | hvx/KVM |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in res["operations"]:
        if op.get("baseline"):
            continue
        hi = op["hvx"]["median"] if op.get("hvx") else None
        ki = op["kvm"]["median"] if op.get("kvm") else None
        hm = op.get("hvx_round_trip", {}).get("modelled_cycles")
        km = op.get("kvm_round_trip", {}).get("modelled_cycles")
        r1 = "%.2f" % (hi / ki) if hi is not None and ki else "-"
        r2 = "%.2f" % (hm / km) if hm is not None and km else "-"
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (op["description"], fmt(hi), fmt(ki), r1,
                                                                fmt(hm), fmt(km), r2))
    based = [op for op in res["operations"] if op.get("baseline")]
    if based:
        lines += ["", "Rows without a KVM column (guest under hvx / the bare emulated host):", "",
                  "| operation | hvx guest | bare host | guest/host |", "|---|---:|---:|---:|"]
        for op in based:
            b = op["baseline"]
            hi = op["hvx"]["median"] if op.get("hvx") else None
            bi = op[b]["median"] if op.get(b) else None
            r = "%.2f" % (hi / bi) if hi is not None and bi else "-"
            lines.append("| %s | %s | %s | %s |" % (op["description"], fmt(hi), fmt(bi), r))
    nic = res.get("nic", [])
    if nic:
        lines += ["", "NIC targets side by side (hvx-nicperf, userspace/nicperf/: the NE2000 on Bochs's vnet, "
                  "bare and passed through, the transfer a TFTP fetch (vnet refuses TCP); a veth pair from the bare host and "
                  "virtio-net on a tap, both to the same TCP sink in a network namespace):", "",
                  "| figure | " + " | ".join("%s (%s)" % (n["target"], n["kind"]) for n in nic) + " |",
                  "|---|" + "---:|" * len(nic)]
        for k, what in NIC_METRICS:
            lines.append("| %s | %s |" % (what, " | ".join(
                "-" if n.get(k) is None else "%.2f" % n[k] if "per" in k else
                "{:,}".format(n[k]) if isinstance(n[k], int) else "%.1f" % n[k] for n in nic)))
        errs = ["%s: %s" % (n["target"], n["error"]) for n in nic if n.get("error")]
        if errs:
            lines += [""] + ["- error: " + e for e in errs]
    tg = targets(res)
    if tg:
        lines += ["", "Targets (userspace/bench/README.md says what limits each):", "",
                  "| target | figure | met |", "|---|---:|---|"]
        for what, fig, met in tg:
            lines.append("| %s | %s | %s |" % (what, fig, "yes" if met else "no"))
    for op, srcs in res.get("exits_by_reason", {}).items():
        for src, sides in srcs.items():
            names = []
            for hv in HVS:
                for nm in sides.get(hv, {}):
                    if nm not in names:
                        names.append(nm)
            what = {"vmx": "VM exits by basic reason (KVM: kvm_exit tracepoint, traced run)",
                    "user": "exits to the VMM", "kstat": "KVM statistics counters",
                    "msr": "RDMSR/WRMSR exits by MSR (hvx: its statistics; "
                           "KVM: kvm_msr tracepoint, traced run)"}.get(src, src)
            lines += ["", "%s: %s" % (op, what), "", "| reason | hvx | KVM |", "|---|---:|---:|"]
            for nm in names:
                lines.append("| %s | %s | %s |" % (nm, sides.get("hvx", {}).get(nm, "-"),
                                                   sides.get("kvm", {}).get(nm, "-")))
    if classes:
        lines += ["", "```", classes.rstrip("\n"), "```"]
    if a.functions and os.path.exists(a.functions):
        with open(a.functions) as f:
            lines += ["", "```", f.read().rstrip("\n"), "```"]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"benchtool: wrote {a.out}")


NIC_METRICS = [("rtt_us", "ping round trip (simulated us)"), ("tcp_kib_s", "transfer (KiB per simulated s)"),
               ("packets", "packets (rx + tx, traffic window)"), ("exits", "VM exits (traffic window)"),
               ("irqs", "device interrupts (traffic window)"), ("exits_per_packet", "VM exits per packet"),
               ("irqs_per_packet", "interrupts per packet")]


def cmd_nic(a):
    """hvx-nicperf's results (nicperf.result: "nicperf result NAME KIND
    RTT_US TCP_KIBS PACKETS EXITS IRQS EXITS_PER_PACKET IRQS_PER_PACKET",
    "-" for none; "nicperf error NAME WHAT") into results.json as "nic"."""
    with open(a.results) as f:
        res = json.load(f)
    nic = []
    errs = {}
    with open(a.nicperf) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[:2] == ["nicperf", "error"]:
                errs[w[2]] = " ".join(w[3:])
            if len(w) != 11 or w[:2] != ["nicperf", "result"]:
                continue
            row = {"target": w[2], "kind": w[3]}
            for (k, _), v in zip(NIC_METRICS, w[4:]):
                row[k] = None if v == "-" else int(v) if k in ("packets", "exits", "irqs") else float(v)
            nic.append(row)
    for row in nic:
        row["error"] = errs.get(row["target"])
    res["nic"] = nic
    with open(a.results, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(f"benchtool: {len(nic)} NIC targets into {a.results}")


def targets(res):
    """The issue's targets, from the figures: [(what, figure, met)]."""
    ops = {op["name"]: op for op in res["operations"]}
    out = []
    # Against KVM: the targets report.sh wrote beside each ratio.
    for op in res["operations"]:
        for key, tkey, what in (("ratio", "target", ""),
                                ("model_ratio", "model_target", " modelled cycles")):
            if op.get(tkey) is not None and op.get(key) is not None:
                out.append(("%s: hvx/KVM%s <= %g" % (op["name"], what, op[tkey]),
                            "%.2f" % op[key], op[key] <= op[tkey]))
    for name in ("blk_seq_read", "blk_seq_write"):
        op = ops.get(name)
        if op and op.get("hvx") and op.get("host") and op["host"]["median"]:
            r = op["hvx"]["median"] / op["host"]["median"]
            out.append(("%s: virtio-blk >= 80%% of the bare host" % name, "%.1f%%" % (100 * r), r >= 0.8))
    nic = {n["target"]: n for n in res.get("nic", [])}
    v, p = nic.get("virtio-net"), nic.get("ne2000-passthrough")
    if v and p:
        if v["tcp_kib_s"] is not None and p["tcp_kib_s"] is not None:
            out.append(("virtio-net throughput >= passed-through NE2000's", "%.1f vs %.1f KiB/s"
                        % (v["tcp_kib_s"], p["tcp_kib_s"]), v["tcp_kib_s"] >= p["tcp_kib_s"]))
        if v["exits_per_packet"] is not None and p["exits_per_packet"] is not None:
            out.append(("virtio-net fewer exits per packet than the NE2000", "%.2f vs %.2f"
                        % (v["exits_per_packet"], p["exits_per_packet"]),
                        v["exits_per_packet"] < p["exits_per_packet"]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("trace")
    s.add_argument("trace")
    s.add_argument("costs")
    s.add_argument("outdir")
    s.add_argument("--syms", metavar="LOG",
                   help="log with /tests/syms's output (bench.sh: Bochs's stdout): "
                        "name functions")
    s.add_argument("--ko", action="append", metavar="NAME=FILE",
                   help="a module's name and its .ko (symbols), e.g. hvx=hvx.ko")
    s.set_defaults(fn=cmd_trace)
    s = sub.add_parser("merge")
    s.add_argument("results")
    s.add_argument("trace_json")
    s.set_defaults(fn=cmd_merge)
    s = sub.add_parser("gate")
    s.add_argument("baseline")
    s.add_argument("results")
    s.set_defaults(fn=cmd_gate)
    s = sub.add_parser("baseline")
    s.add_argument("results")
    s.add_argument("out")
    s.set_defaults(fn=cmd_baseline)
    s = sub.add_parser("nic")
    s.add_argument("results")
    s.add_argument("nicperf")
    s.set_defaults(fn=cmd_nic)
    s = sub.add_parser("markdown")
    s.add_argument("results")
    s.add_argument("out")
    s.add_argument("--classes", help="classes.txt of the same run")
    s.add_argument("--functions", help="functions.txt of the same run")
    s.add_argument("--target", default="make bench")
    s.add_argument("--args", default="")
    s.set_defaults(fn=cmd_markdown)
    s = sub.add_parser("shares")
    s.add_argument("trace_json")
    s.add_argument("--ratio", type=float, default=0.6)
    s.set_defaults(fn=cmd_shares)
    a = p.parse_args()
    try:
        a.fn(a)
    except OSError as e:
        die(f"{e.filename or ''}: {e.strerror or e}")
    except json.JSONDecodeError as e:
        die(f"not JSON: {e}")


if __name__ == "__main__":
    main()
