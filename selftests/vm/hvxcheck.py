#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""hvxcheck: the emulator runs behind `make check`, and their results.

check.sh builds the initramfs, the Bochs ISO and bochsrc (lib.sh), then
hands over to this file, which

- decides which emulators run which programs (``emus``; EMULATORS below),
- starts the emulators and supervises them (``run``),
- splits each serial log by the ``### HVX-*`` markers (selftests/README.md,
  "Markers"), parses each program's TAP, checks the emulated host's health
  (boot, insmod, ALLDONE, kmemleak, oops) and prints one line per result,
  ``N passed, N failed, N skipped`` and build/check/results.txt
  (``report`` does that step alone, on the logs of an earlier run).

Standard library only. Unit tests: hvxcheck_test.py (``make check-runner``).
Logs are read and written as bytes (latin-1 round trip): a serial console is
not always valid UTF-8.
"""

import argparse
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time

ENC = 'latin-1'
ME = 'check.sh'         # the name in progress lines and stop messages

# ---------------------------------------------------------------------------
# Emulator configurations.


@dataclasses.dataclass(frozen=True)
class Emulator:
    """One emulated host: how it starts and what it runs.

    programs: the test programs it runs (None: every selected one);
    debug_programs: more of them on a debug kernel (HVX_HOST_VMLINUZ set);
    without: programs it leaves out.
    extra_cmdline: appended to the kernel command line of its kind.
    qemu_args: QEMU machine and device arguments (kind 'qemu').
    after: the emulator it starts after, once that one ended, when both
    run XHOST_TEST (start_after()).
    share_of: the emulator whose programs this one takes a share of: when
    both are in the plan, its programs leave that one's run, so the two
    boots of one configuration run the suite between them.
    follows: emulators it starts after, those of them in the plan having
    ended (start_after()): a share started when a short run ends keeps
    the Bochs processes to the two the build machine's cores can run.
    """
    name: str
    kind: str                   # 'bochs' or 'qemu'
    timeout_env: str
    default_timeout: int
    programs: tuple = None
    debug_programs: tuple = ()
    without: tuple = ()
    cpus: int = 1
    initrd: str = 'initrd.gz'
    cmdline_var: str = 'CMDLINE_QEMU'
    qemu_args: tuple = ()
    after: str = ''
    share_of: str = ''
    follows: tuple = ()


# The QEMU TCG boots have no VMX: they run the programs that test DMA
# remapping and interrupt isolation, and novmx_test, whose one case asserts
# that VM creation is refused there. Every other program would only skip.
QEMU_PROGRAMS = ('novmx_test', 'passthrough_test')
# On a debug kernel (make check-debug: HVX_HOST_VMLINUZ) also churn_test,
# whose fault-injected DMA-only VM case runs without VMX there.
QEMU_DEBUG_PROGRAMS = ('churn_test',)
# Programs with nothing to check where the CPU has VMX.
VMX_LESS = ('novmx_test',)
# The cross-host snapshot: it saves a VM onto a disk that bochs and
# bochs-spec share (lib.sh setup_bochs) in bochs, and restores it in
# bochs-spec, which therefore starts once bochs has ended. bochs-smp has
# no such disk.
XHOST_TEST = 'xhost_test'

# The shares (Emulator.share_of), by the programs' running times in
# Bochs: the tail of the sorted suite, which SMP2_PROGRAMS ends (the
# virtio_linux_test boots alone take about a quarter of bochs-smp's run),
# and BOCHS2_PROGRAMS from snapshot_test on, about half of bochs's.
SMP2_PROGRAMS = ('virtio_linux_test', 'virtio_net_test', 'virtio_test',
                 'vmstate_test', 'vmxlife_test')
BOCHS2_PROGRAMS = ('snapshot_test', 'spec_test', 'stats_test') + SMP2_PROGRAMS

# passthrough: the edu and an e1000 share slot 4, hence one IOMMU group
# (conventional PCI functions without ACS); the edu's DMA reaches 40 address
# bits, not 28. An e1000e (MSI-X) alone at 00:05.0 for the guest MSI-X.
_EDU_E1000 = ('-device', 'edu,addr=4.0,multifunction=on,dma_mask=0xffffffffff',
              '-device', 'e1000,addr=4.1,netdev=pt0', '-netdev', 'user,id=pt0')
_E1000E = ('-device', 'e1000e,addr=5.0,netdev=pt1', '-netdev', 'user,id=pt1')

EMULATORS = {
    e.name: e for e in (
        Emulator('bochs', 'bochs', 'HVX_BOCHS_TIMEOUT', 1500, without=VMX_LESS),
        # Two emulated CPUs on one host thread: the whole suite takes
        # longest here, and the limit must leave room for a busy machine.
        Emulator('bochs-smp', 'bochs', 'HVX_BOCHS_TIMEOUT', 2400, cpus=2,
                 without=VMX_LESS + (XHOST_TEST,)),
        # BOCHS_SPEC_TESTS (lib.sh) replaces programs at run time.
        Emulator('bochs-spec', 'bochs', 'HVX_BOCHS_TIMEOUT', 1500,
                 programs=('spec_test', 'exits_test', 'events_test', XHOST_TEST),
                 after='bochs'),
        # The last part of bochs-smp's programs, on a second boot of the
        # same configuration that starts when bochs and bochs-spec have
        # ended (bochs-smp alone would run on for about as long again).
        Emulator('bochs-smp2', 'bochs', 'HVX_BOCHS_TIMEOUT', 1500, cpus=2,
                 programs=SMP2_PROGRAMS, share_of='bochs-smp',
                 follows=('bochs', 'bochs-spec')),
        # The second half of bochs's programs beside it, for make
        # check-debug (DEBUG_EMUS), whose Bochs runs ten times as many
        # instructions per tick and would take over an hour alone.
        Emulator('bochs2', 'bochs', 'HVX_BOCHS_TIMEOUT', 1500,
                 programs=BOCHS2_PROGRAMS, share_of='bochs'),
        Emulator('qemu', 'qemu', 'HVX_QEMU_TIMEOUT', 600,
                 programs=QEMU_PROGRAMS, debug_programs=QEMU_DEBUG_PROGRAMS,
                 qemu_args=('-M', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '512',
                            '-device', 'intel-iommu,intremap=on') + _EDU_E1000 + _E1000E),
        # The same edu and e1000 behind an IOMMU without interrupt
        # remapping: passthrough_test's refusal to assign there.
        Emulator('qemu-nointremap', 'qemu', 'HVX_QEMU_TIMEOUT', 600,
                 programs=('passthrough_test',), initrd='initrd-nointremap.gz',
                 cmdline_var='CMDLINE_QEMU_NOINTREMAP',
                 qemu_args=('-M', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '512',
                            '-device', 'intel-iommu,intremap=off') + _EDU_E1000),
        # Nested VT-x through /dev/kvm: VMX and an IOMMU in one machine.
        # Untested (no nested-VMX machine was at hand): see README.md.
        # 3 GiB and 1 GiB pages for mem_test as in Bochs; interrupt
        # remapping with KVM needs the split irqchip.
        Emulator('qemu-kvm', 'qemu', 'HVX_QEMU_TIMEOUT', 600, cpus=2, without=VMX_LESS,
                 qemu_args=('-M', 'q35,kernel-irqchip=split', '-accel', 'kvm',
                            '-cpu', 'host', '-m', '3072',
                            '-device', 'intel-iommu,intremap=on') + _EDU_E1000 + _E1000E),
    )
}

DEFAULT_EMUS = ('bochs', 'qemu', 'bochs-smp', 'bochs-spec', 'bochs-smp2')
# With nested VMX, QEMU/KVM runs everything Bochs would, much faster.
DEFAULT_EMUS_NESTED = ('qemu-kvm', 'qemu')
NOIR_TEST = 'passthrough_test'
# Seconds added to a Bochs wall-clock limit for the kexec step (HVX_KEXEC=1
# with vmxlife_test) when HVX_BOCHS_TIMEOUT does not set the limit.
KEXEC_BOCHS_EXTRA = 900
QEMU_KVM_CMDLINE = ' hugepagesz=1G hugepages=1 transparent_hugepage=never'


class UsageError(Exception):
    """A bad request (HVX_EMUS, TESTS): reported as one failure."""


def nested_vmx(sysroot='/'):
    """Can QEMU use VT-x through /dev/kvm here?

    True when /dev/kvm exists, kvm_intel is loaded with nested=Y (or 1), and
    the CPU flags in /proc/cpuinfo include vmx (a guest of a hypervisor that
    does not pass VMX through has none).
    """
    def path(p):
        return os.path.join(sysroot, p.lstrip('/'))

    if not os.path.exists(path('/dev/kvm')):
        return False
    try:
        with open(path('/sys/module/kvm_intel/parameters/nested')) as f:
            if f.read().strip() not in ('Y', 'y', '1'):
                return False
        with open(path('/proc/cpuinfo')) as f:
            for line in f:
                if line.startswith('flags') and 'vmx' in line.split(':', 1)[-1].split():
                    return True
    except OSError:
        pass
    return False


def select_emus(requested, tests, env=os.environ, nested=None):
    """The emulators to run, in order, each with its programs.

    requested: HVX_EMUS words, or empty for the default set. tests: the
    selected programs, in order. Returns [(Emulator, [program, ...])];
    an emulator with nothing to run is left out. Raises UsageError.
    """
    words = requested.split()
    if not words:
        if nested is None:
            nested = nested_vmx()
        words = list(DEFAULT_EMUS_NESTED if nested else DEFAULT_EMUS)
        if NOIR_TEST in tests:
            words.append('qemu-nointremap')
    for w in words:
        if w not in EMULATORS:
            raise UsageError(f"HVX_EMUS: unknown emulator '{w}'")
    if 'qemu-nointremap' in words and NOIR_TEST not in tests:
        raise UsageError(f'qemu-nointremap runs only {NOIR_TEST}, which TESTS leaves out')
    plan = []
    for w in words:
        emu = EMULATORS[w]
        progs = emu.programs
        if w == 'bochs-spec' and env.get('BOCHS_SPEC_TESTS'):
            progs = tuple(env['BOCHS_SPEC_TESTS'].split())
        if progs is not None and env.get('HVX_HOST_VMLINUZ'):
            progs += emu.debug_programs
        run = [t for t in tests if (progs is None or t in progs) and t not in emu.without]
        for share in words:
            if EMULATORS[share].share_of == w:
                run = [t for t in run if t not in EMULATORS[share].programs]
        if run:
            plan.append((emu, run))
    if not plan:
        raise UsageError('no emulator runs any of: ' + ' '.join(tests))
    return plan


def start_after(plan):
    """{emulator: (the ones it waits for, ...)} for PLAN (select_emus()).

    An emulator with `after` waits for that one to end when both run
    XHOST_TEST: bochs-spec restores the snapshot bochs left on their disk.
    One with `follows` waits for those of them in the plan.
    """
    runs = {emu.name: run for emu, run in plan}
    wait = {}
    for emu, run in plan:
        names = [f for f in emu.follows if f in runs]
        if emu.after in runs and XHOST_TEST in run and XHOST_TEST in runs[emu.after]:
            names.insert(0, emu.after)
        if names:
            wait[emu.name] = tuple(names)
    return wait


def only_arg(run, tests):
    """' hvx.only=a,b' for /init when RUN leaves out some of TESTS, else ''."""
    return '' if list(run) == list(tests) else ' hvx.only=' + ','.join(run)


def emu_limit(emu, run, env=os.environ):
    """The wall-clock limit in seconds of emulator emu running programs run.

    Its variable (HVX_BOCHS_TIMEOUT ...) sets it; else the default, plus
    KEXEC_BOCHS_EXTRA in Bochs when the run ends with the kexec step, whose
    kexec_file_load() alone takes minutes there (selftests/README.md).
    """
    if env.get(emu.timeout_env):
        return int(env[emu.timeout_env])
    kexec = env.get('HVX_KEXEC') == '1' and 'vmxlife_test' in run
    return emu.default_timeout + (KEXEC_BOCHS_EXTRA if kexec and emu.kind == 'bochs' else 0)


def emu_command(emu, run, tests, img, out, env=os.environ):
    """The command line that starts EMU (run in IMG), as a list.

    run: the programs it runs; when fewer than the initramfs holds (tests),
    QEMU's kernel command line gets hvx.only= for /init. Bochs reads its
    bochsrc (lib.sh setup_bochs, which sets hvx.only= itself).
    """
    if emu.kind == 'bochs':
        return ['bochs', '-q', '-f', f'{img}/{emu.name}.bochsrc', '-rc', f'{img}/bochs.rc']
    cmdline = env.get(emu.cmdline_var, '')
    if emu.name == 'qemu-kvm':
        cmdline = cmdline.replace('hvx.emu=qemu', 'hvx.emu=qemu-kvm') + QEMU_KVM_CMDLINE
    if emu.initrd == 'initrd.gz':
        cmdline += only_arg(run, tests)
    cmd = ['qemu-system-x86_64', *emu.qemu_args]
    if emu.cpus > 1:
        cmd += ['-smp', str(emu.cpus)]
    cmd += ['-nographic', '-monitor', 'none', '-serial', f'file:{out}/{emu.name}-serial.log',
            '-no-reboot', '-kernel', env.get('VMLINUZ', ''), '-initrd', f'{img}/{emu.initrd}',
            '-append', cmdline]
    return cmd


# ---------------------------------------------------------------------------
# TAP (kselftest's TAP 13, as the kernel's kselftest_harness.h prints it).

_LOWER = str.maketrans('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
RE_PLAN = re.compile(r'^1\.\.[0-9]+')
RE_NUM = re.compile(r'[ \t]*[-+]?[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?')
RE_PLANSKIP = re.compile(r'#[ \t]*skip')
RE_RUN = re.compile(r'^#[ \t]+RUN[ \t]+([^ \t]*)')
# kselftest_harness.h's "# file.c:LINE:test:message" for a failed assertion.
RE_DIAG = re.compile(r'^#[ \t]+[A-Za-z0-9_]+\.c:[0-9]+:')
RE_OK = re.compile(r'^(not )?ok([ \t]|\Z)')
RE_DIRECTIVE = re.compile(r'(^|[ \t])#[ \t]*(skip|todo|xfail)')


def _lower(s):
    return s.translate(_LOWER)


def _trim(s):
    return s.strip(' \t')


def _num(s):
    """The number at the start of s, as awk reads it (0 if none)."""
    m = RE_NUM.match(s)
    try:
        v = float(m.group())
    except ValueError:
        return 0
    return int(v) if v.is_integer() else v


@dataclasses.dataclass
class Result:
    """One result line: KIND is PASS, FAIL or SKIP; name '' is the program."""
    kind: str
    name: str
    reason: str = ''


def parse_tap(lines, rc, timeout):
    """Results of one program from its TAP output.

    lines: its output lines (no newlines); rc: its exit code as a string, or
    'none' (BEGIN but no END marker) or 'notrun' (no BEGIN marker); timeout:
    the per-test limit, for the message. Returns a list of Result: one per
    ok/not ok line, then at most one about the program as a whole.
    """
    res = []
    np = nf = ncase = 0
    plan = -1
    planskip = bail = diag = running = ''
    stuck = False
    for line in lines:
        line = line.replace('\r', '')
        if '### HVX-STUCK' in line:
            stuck = True
        if RE_PLAN.match(line):
            plan = _num(line[3:])
            m = RE_PLANSKIP.search(_lower(line))
            if m:
                planskip = re.sub(r'^[A-Za-z]*:?', '', line[m.end():], count=1)
                planskip = _trim(planskip) or 'skipped'
            continue
        if line.startswith('Bail out!'):
            bail = _trim(line)
            continue
        # "#  RUN NAME ..." starts a case; its first "# file.c:LINE:" line
        # is the FAIL reason. 6.1's harness prints a skipped case's result
        # as "ok N # SKIP reason", without the name: NAME supplies it.
        m = RE_RUN.match(line)
        if m:
            diag, running = '', m.group(1)
            continue
        if RE_DIAG.match(line):
            if diag == '':
                diag = _trim(line[1:])
            continue
        if not RE_OK.match(line):
            continue
        notok = line.startswith('not ok')
        rest = re.sub(r'^(not )?ok[ \t]*', '', line, count=1)
        num = ''
        m = re.match(r'[0-9]+', rest)
        if m:
            num = m.group()
            rest = rest[m.end():]
        rest = re.sub(r'^-[ \t]*', '', _trim(rest), count=1)
        directive = reason = ''
        name = rest
        m = RE_DIRECTIVE.search(_lower(rest))
        if m:
            name = rest[:m.start()]
            d = re.sub(r'^[ \t]*#[ \t]*', '', rest[m.start():], count=1)
            directive = _lower(d[:4])
            if directive == 'xfai':
                directive = 'xfail'
            reason = re.sub(r'^[A-Za-z]*:?[ \t]*', '', d, count=1)
        name = _trim(name) or running or '#' + (num or str(ncase + 1))
        running = ''
        ncase += 1
        d0, diag = diag, ''
        if directive == 'skip':
            res.append(Result('SKIP', name, reason or 'skipped'))
        elif directive == 'todo' and notok:
            res.append(Result('SKIP', name, 'TODO' + (': ' + reason if reason else '')))
        elif notok and directive != 'xfail':
            nf += 1
            res.append(Result('FAIL', name, d0))
        else:
            np += 1
            res.append(Result('PASS', name))

    why = ''
    rcn = int(rc) if rc.isdigit() else None
    if rc == 'notrun':
        why = 'not run: the emulated host stopped before this test'
    elif rc == 'none':
        why = 'no END marker: the test crashed or hung the emulated host'
    elif rcn == 124:
        why = f'timed out after {timeout}s' + (' and could not be killed' if stuck else '')
    elif bail:
        why = bail
    elif ncase == 0:
        if rcn == 4 or planskip:
            return res + [Result('SKIP', '', planskip or 'exit code 4, no TAP results')]
        if rcn != 0:
            why = f'exit code {rc}, no TAP results'
        else:
            return res + [Result('PASS', '')]
    elif rcn not in (0, 4) and nf == 0:
        why = f'exit code {rc}' + (f' (signal {rcn - 128})' if rcn > 128 else '') + \
            ' but no "not ok" line'
    elif plan >= 0 and plan != ncase and nf == 0:
        why = f'planned {plan} results, got {ncase}'
    if why:
        res.append(Result('FAIL', '', why))
    return res


# ---------------------------------------------------------------------------
# Serial logs.

def read_lines(path):
    """The lines of a file, as awk reads them (a last line without newline
    counts; bytes kept as latin-1)."""
    try:
        with open(path, 'rb') as f:
            text = f.read().decode(ENC)
    except FileNotFoundError:
        return []
    lines = text.split('\n')
    if lines[-1] == '':
        lines.pop()
    return lines


class _Files:
    """Output files with awk's `>` semantics: truncated when first opened,
    appended to while open, truncated again after close()."""

    def __init__(self):
        self.data = {}
        self.open = set()

    def write(self, path, s):
        if path not in self.open:
            self.data[path] = []
            self.open.add(path)
        self.data[path].append(s)

    def close(self, path):
        self.open.discard(path)

    def flush(self):
        for path, chunks in self.data.items():
            with open(path, 'wb') as f:
                f.write(''.join(chunks).encode(ENC, 'surrogateescape'))


RE_BEGIN = re.compile(r'### HVX-BEGIN ([^ ]+)')
RE_END = re.compile(r'### HVX-END ([^ ]+) rc=([0-9]+)')
RE_TIME = re.compile(r'### HVX-TIME ([^ ]+ [0-9.]+)')


def split_serial(lines, tapdir, dmesg_path):
    """Split a serial log: each program's output into TAPDIR/<name>.tap,
    its exit code into <name>.rc, the HVX-TIME lines into times.txt, the
    final dmesg into DMESG_PATH."""
    files = _Files()
    cur = ''
    indmesg = False
    for line in lines:
        line = line.replace('\r', '')
        m = RE_BEGIN.search(line)
        if m:
            cur = m.group(1)
            files.write(f'{tapdir}/{cur}.tap', '')
            continue
        m = RE_END.search(line)
        if m:
            rcf = f'{tapdir}/{m.group(1)}.rc'
            files.write(rcf, m.group(2) + '\n')
            files.close(rcf)
            if cur:
                files.close(f'{tapdir}/{cur}.tap')
            cur = ''
            continue
        m = RE_TIME.search(line)
        if m:
            files.write(f'{tapdir}/times.txt', m.group(1) + '\n')
            continue
        if '### HVX-DMESG-BEGIN' in line:
            indmesg = True
            files.write(dmesg_path, '')
            continue
        if '### HVX-DMESG-END' in line:
            indmesg = False
            continue
        if indmesg:
            files.write(dmesg_path, line + '\n')
            continue
        if cur:
            files.write(f'{tapdir}/{cur}.tap', line + '\n')
    files.flush()


def _after(s, sub):
    """s after the first SUB (bash ${s#*SUB}); s itself if there is none."""
    i = s.find(sub)
    return s[i + len(sub):] if i >= 0 else s


KERNEL_BAD = re.compile(r'Oops|BUG:|kernel BUG|WARNING:|Kernel panic|general protection|Call Trace')
TAP_LINE = re.compile(r'^(#|ok |not ok )')


# 7.2 prints "WARNING: <file>:<line> at parse_legacy+..."; older kernels
# "WARNING: CPU: 0 PID: 0 at <file>:<line> parse_legacy+...".
KNOWN_7X_WARNING = re.compile(r'^\[ *0\.000000\] WARNING: .*topology_common\.c:[0-9]+ (?:at )?parse_legacy')


def known_boot_warnings(lines, kernel=None):
    """LINES without the one kernel warning that is a known quirk of the
    emulated CPU for the kernel booted, so that the check for kernel trouble
    can stay strict. Only for host kernels from 6.12 on (HVX_KERNEL=7,
    or an HVX_HOST_KVER other than Debian's 6.1): their topology code
    WARNs once in parse_legacy at time 0 on Bochs's CPU model. That report is dropped from its WARNING line to its "end trace"
    line (60 lines at most), once per boot (a "Linux version" line starts
    one: the kexec step boots the kernel a second time)."""
    if kernel is None:
        kernel = '7' if os.environ.get('HVX_KERNEL') == '7' else \
            os.environ.get('HVX_HOST_KVER', '')
    if not kernel or kernel.startswith('6.1.'):
        return list(lines)
    out, skip, done, n = [], False, False, 0
    for line in lines:
        if 'Linux version ' in line and not skip:
            done = False
        if not done and not skip and KNOWN_7X_WARNING.search(line.replace('\r', '')):
            skip = True
        if skip:
            n += 1
            if '---[ end trace' in line or n >= 60:
                skip, done = False, True
            continue
        out.append(line)
    return out


# Lines from "invoked oom-killer" to the report's "Call Trace": CPU and
# hardware name on 6.1, plus a "Tainted:" line from 6.12 on.
OOM_HEADER_LINES = 5
# Backtraces requested by sysrq 'l' (guard_test sends NMIs that way): from
# an "NMI backtrace for cpu N" to its "Call Trace" (the registers of a CPU
# interrupted elsewhere), and from the sysrq line to the last CPU's.
SYSRQ_BT = 'sysrq: Show backtrace of all active CPUs'
# Allocation-failure reports (warn_alloc(): "COMM: vmalloc error: ..." or
# "COMM: page allocation failure: ...", then CPU, hardware and "Call
# Trace") of the programs that make allocations fail on purpose:
# churn_test's fault injection (failslab) on the debug kernel reaches
# allocations inside the kernel's own helpers (fpu_alloc_guest_fpstate()
# vmallocs without __GFP_NOWARN), which report the failure they were told to
# have.
FAULT_INJECTING = ('churn_test',)
ALLOC_FAIL = re.compile(r'\] (' + '|'.join(FAULT_INJECTING) +
                        r'): (vmalloc error|page allocation failure):')
NMI_BT_HEADER_LINES = 20
SYSRQ_BT_LINES = 400


def kernel_trouble(lines, kernel=None):
    """Numbered console lines that show kernel trouble (oops, BUG, WARNING,
    panic, GP fault, a stack trace), except TAP lines, the stack an OOM
    kill prints within OOM_HEADER_LINES of "invoked oom-killer" (mem_test
    drives a VM owner over its memcg limit on purpose), the allocation
    failures FAULT_INJECTING programs cause (ALLOC_FAIL, the same window), the stacks sysrq 'l'
    asked for (within SYSRQ_BT_LINES of its line, each within
    NMI_BT_HEADER_LINES of its "NMI backtrace for cpu") and
    known_boot_warnings()."""
    bad = []
    lines = known_boot_warnings(lines, kernel)
    oom = sysrq = nmi_bt = alloc = 0
    for n, line in enumerate(lines, 1):
        line = line.replace('\r', '')
        if 'invoked oom-killer' in line:
            oom = n
        if ALLOC_FAIL.search(line):
            alloc = n
        if 'Call Trace' in line and alloc and n - alloc <= OOM_HEADER_LINES:
            line = '(injected allocation failure stack)'
        if SYSRQ_BT in line:
            sysrq = n
        if 'NMI backtrace for cpu' in line and sysrq and n - sysrq <= SYSRQ_BT_LINES:
            nmi_bt = n
        if 'Call Trace' in line and oom and n - oom <= OOM_HEADER_LINES:
            line = '(oom report stack)'
        if 'Call Trace' in line and nmi_bt and n - nmi_bt <= NMI_BT_HEADER_LINES:
            line = '(sysrq backtrace stack)'
        if KERNEL_BAD.search(line) and not TAP_LINE.match(line):
            bad.append(f'{n}:{line}')
    return bad


class Report:
    """The result lines, their counts and results.txt."""

    def __init__(self, out, stream=None):
        self.out = out
        self.results = os.path.join(out, 'results.txt')
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.counts = {'PASS': 0, 'FAIL': 0, 'SKIP': 0}
        self.text = []
        self.rows = []          # (kind, name, reason) for record()

    def line(self, s, counted=None):
        if counted:
            self.counts[counted] += 1
        self.text.append(s + '\n')
        self.echo(s)

    def echo(self, s):
        self.stream.write((s + '\n').encode(ENC, 'surrogateescape'))
        self.stream.flush()

    def result(self, kind, name, reason=''):
        self.rows.append((kind, name, reason))
        s = f'{kind:<4}  {name}'
        if reason:
            s += ' : ' + reason
        self.line(s, kind)

    def summary(self):
        c = self.counts
        return f"{c['PASS']} passed, {c['FAIL']} failed, {c['SKIP']} skipped"

    def write(self):
        with open(self.results, 'wb') as f:
            f.write(''.join(self.text + [self.summary() + '\n']).encode(ENC, 'surrogateescape'))

    def ok(self):
        return self.counts['FAIL'] == 0 and self.counts['PASS'] > 0


def _program_rc(tapdir, t):
    try:
        with open(f'{tapdir}/{t}.rc', 'rb') as f:
            return f.read().decode(ENC).rstrip('\n')
    except FileNotFoundError:
        pass
    if os.path.exists(f'{tapdir}/{t}.tap'):
        return 'none'
    open(f'{tapdir}/{t}.tap', 'wb').close()
    return 'notrun'


def report_emu(rep, name, programs, timeout, status):
    """Report one emulator's run from build/check/<name>-serial.log."""
    out = rep.out
    tapdir = f'{out}/{name}'
    serial = f'{out}/{name}-serial.log'
    os.makedirs(tapdir, exist_ok=True)
    for f in os.listdir(tapdir):     # results of an earlier report
        if f.endswith(('.tap', '.rc')) or f == 'times.txt':
            os.unlink(os.path.join(tapdir, f))
    if not os.path.exists(serial):
        open(serial, 'wb').close()
    lines = read_lines(serial)
    text = '\n'.join(lines)
    split_serial(lines, tapdir, f'{out}/{name}-dmesg.log')

    for t in programs:
        rc = _program_rc(tapdir, t)
        for r in parse_tap(read_lines(f'{tapdir}/{t}.tap'), rc, timeout):
            rep.result(r.kind, f'{name}/{t}' + (f'/{r.name}' if r.name else ''), r.reason)

    # The kexec step (init.sh runs vmxlife_test --kexec after the suite): the
    # kexec'd kernel must bring up as many CPUs as the first had.
    if '### HVX-KEXEC-BEGIN' in text:
        kx = f'{name}/vmxlife_test/kexec_with_running_vm'
        go = re.findall(r'### HVX-KEXEC-GO cpus=([0-9]*)', text)
        go = go[-1] if go else ''
        boot = re.findall(r'### HVX-KEXEC-BOOT cpus=([0-9]*)', text)
        boot = boot[-1] if boot else ''
        m = re.search(r'### HVX-KEXEC-(SKIP|FAIL) .*', text)
        why = m.group().replace('\r', '') if m else ''
        if 'SKIP' in why:
            rep.result('SKIP', kx, _after(why, 'SKIP '))
        elif why:
            rep.result('FAIL', kx, _after(why, 'FAIL '))
        elif not go:
            rep.result('FAIL', kx, 'vmxlife_test --kexec ended without reaching reboot')
        elif not boot:
            rep.result('FAIL', kx, "the kexec'd kernel did not reach /init")
        elif boot != go:
            rep.result('FAIL', kx, f"the kexec'd kernel brought up {boot} of {go} CPUs")
        else:
            rep.result('PASS', kx)

    # Health of the emulated host.
    st = status or 'unknown'
    if '### HVX-BOOT' not in text:
        rep.result('FAIL', f'{name}/boot',
                   f'/init never ran (emulator: {st}); see {serial} and {out}/{name}-stdout.log')
    m = re.search(r'### HVX-INSMOD rc=([0-9]*)', text)
    if m and m.group(1) and m.group(1) != '0':
        rep.result('FAIL', f'{name}/insmod',
                   f'insmod hvx.ko failed (rc={m.group(1)}); see {serial}')
    if '### HVX-ALLDONE' not in text:
        rep.result('FAIL', f'{name}/alldone', f'### HVX-ALLDONE missing (emulator: {st})')
    # kmemleak, on kernels that have it (make check-debug).
    leaks = '\n'.join(re.findall(r'### HVX-KMEMLEAK count=([0-9]*)', text)).rstrip('\n')
    if leaks and leaks != '0':
        rep.result('FAIL', f'{name}/kmemleak',
                   f'{leaks} unreferenced object(s) after the suite; see {serial}')
    elif leaks:
        rep.result('PASS', f'{name}/kmemleak')
    bad = kernel_trouble(lines)
    if bad:
        rep.result('FAIL', f'{name}/kernel', f'oops/BUG/WARNING/panic in {serial}:')
        for b in bad[:40]:
            rep.line('        ' + b)


# ---------------------------------------------------------------------------
# Running the emulators.

class Runner:
    """Emulators in parallel, each with a wall-clock limit, stopped when
    /init is done and they do not power off, or the kernel panicked."""

    POLL = 2            # seconds between looks at the serial logs
    GRACE = 20          # seconds to power off after the last marker
    PANIC_GRACE = 6     # seconds of console output after a panic

    def __init__(self, out, log):
        self.out = out
        self.log = log
        self.procs = {}     # name -> (Popen, t0, limit, serial)
        self.status = {}
        self.done_at = {}
        self.waiting = {}   # name -> (after, limit, cmd, cwd): start_later()

    def start(self, name, limit, cmd, cwd):
        serial = f'{self.out}/{name}-serial.log'
        open(serial, 'wb').close()
        with open(f'{self.out}/{name}-stdout.log', 'wb') as so:
            p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                                 stdout=so, stderr=subprocess.STDOUT)
        self.procs[name] = (p, time.monotonic(), limit, serial)
        self.log(f'started {name} (pid {p.pid}, limit {limit}s)')

    def start_later(self, name, after, limit, cmd, cwd):
        """Start NAME as start() would, once each of AFTER (names) has
        ended (supervise())."""
        self.waiting[name] = (after, limit, cmd, cwd)
        self.log(f'{name} starts once {" and ".join(after)} ha{"ve" if len(after) > 1 else "s"} ended')

    def _ended(self, name):
        """NAME ran and ended, or will never run."""
        return name in self.status or (name not in self.procs and name not in self.waiting)

    def _start_waiting(self):
        for name, (after, limit, cmd, cwd) in list(self.waiting.items()):
            if all(self._ended(a) for a in after):
                del self.waiting[name]
                self.start(name, limit, cmd, cwd)

    @staticmethod
    def _stop(p):
        if p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def cleanup(self):
        for name, (p, *_rest) in self.procs.items():
            if name not in self.status:
                self._stop(p)

    def _check(self, name, now):
        """A status that stops NAME, or None while it may go on."""
        p, t0, limit, serial = self.procs[name]
        el = int(now - t0)
        if el > limit:
            return f'TIMEOUT: killed after the {limit}s wall-clock limit'
        with open(serial, 'rb') as f:
            text = f.read()

        def after(secs, msg):
            self.done_at.setdefault(name, now)
            return msg if now - self.done_at[name] > secs else None

        if b'end Kernel panic' in text:
            return after(self.PANIC_GRACE, f'kernel panic, stopped by {ME} after {el}s')
        if b'### HVX-KEXEC-BEGIN' in text:
            # The kexec step: done when either kernel printed KEXEC-DONE. A
            # second HVX-BOOT means the machine reset and runs the suite again.
            if b'### HVX-KEXEC-DONE' in text:
                return after(self.GRACE, 'did not exit after the kexec step, '
                             f'stopped by {ME} after {el}s')
            if text.count(b'### HVX-BOOT ') > 1:
                return f'reset instead of kexec, stopped by {ME} after {el}s'
        elif b'### HVX-DMESG-END' in text:
            return after(self.GRACE, f'did not exit after power-off, stopped by {ME} after {el}s')
        return None

    def supervise(self):
        last_beat = time.monotonic()
        while True:
            time.sleep(self.POLL)
            self._start_waiting()
            now = time.monotonic()
            running = bool(self.waiting)
            for name, (p, t0, _limit, serial) in self.procs.items():
                if name in self.status:
                    continue
                rc = p.poll()
                if rc is not None:
                    rc = 128 - rc if rc < 0 else rc
                    self.status[name] = f'exited rc={rc} after {int(now - t0)}s'
                    self.log(f'{name} {self.status[name]}')
                    continue
                running = True
                st = self._check(name, now)
                if st:
                    self.status[name] = st
                    self.log(f'{name} {st}')
                    self._stop(p)
            if not running:
                return
            if now - last_beat >= 60:
                last_beat = now
                for name, (p, t0, _limit, serial) in self.procs.items():
                    if name not in self.status:
                        self.log(f'{name} running {int(now - t0)}s: {last_marker(serial)}')


def last_marker(serial):
    """The last marker in a serial log, for progress lines."""
    with open(serial, 'rb') as f:
        m = re.findall(r'### HVX-[A-Z]*[^#\n]*', f.read().decode(ENC))
    return m[-1].replace('\r', '') if m else ''


def _host_kernel(out, plan):
    """The emulated host's kernel release, from the first serial log that has it."""
    for emu, _progs in plan:
        try:
            with open(f'{out}/{emu.name}-serial.log', 'rb') as f:
                m = re.search(rb'Linux version (\S+)', f.read())
        except FileNotFoundError:
            continue
        if m:
            return m.group(1).decode(ENC)
    return 'unknown'


def _commit():
    """The tree's commit, with -dirty for local changes."""
    try:
        r = subprocess.run(['git', 'describe', '--always', '--dirty', '--abbrev=12'],
                           cwd=os.path.dirname(os.path.abspath(__file__)),
                           capture_output=True, text=True, check=True, timeout=30)
        return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def in_tree(text):
    """TEXT with the repository's absolute path dropped: a record is
    committed, and the tree names no path of a build machine."""
    return text.replace(REPO + '/', '')


def record(path, title, rep, plan, status, wall, out, commit=None):
    """Write the generated record of a whole-suite run (selftests/results/).

    commit: the tree's commit when the run started (the default: now).
    """
    per = {}
    for kind, name, _reason in rep.rows:
        c = per.setdefault(name.split('/', 1)[0], {'PASS': 0, 'FAIL': 0, 'SKIP': 0})
        c[kind] += 1
    lines = [f'# {title}', '',
             'Generated by `selftests/vm/hvxcheck.py` at the end of a whole-suite run',
             '(no `TESTS`, the default emulators); a later such run rewrites it.', '',
             f'- commit: `{commit or _commit()}`',
             f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f'- host kernel in the emulators: `{_host_kernel(out, plan)}`']
    if wall is not None:
        lines.append(f'- wall time: {wall // 60}m{wall % 60:02d}s')
    lines += [f'- result: {rep.summary()}', '',
              '| emulator | how it ended | passed | failed | skipped |',
              '|---|---|---:|---:|---:|']
    for emu, _progs in plan:
        c = per.get(emu.name, {'PASS': 0, 'FAIL': 0, 'SKIP': 0})
        lines.append(f"| {emu.name} | {status.get(emu.name) or 'not run'} | "
                     f"{c['PASS']} | {c['FAIL']} | {c['SKIP']} |")
    for kind, head in (('FAIL', 'Failures'), ('SKIP', 'Skips, with their reasons')):
        rows = [(n, r) for k, n, r in rep.rows if k == kind]
        lines += ['', f'## {head}', '']
        lines += [f'- `{n}`' + (f': {in_tree(r)}' if r else '') for n, r in rows] or ['None.']
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(('\n'.join(lines) + '\n').encode(ENC, 'surrogateescape'))
    os.replace(tmp, path)


def report(out, plan, timeout, status, wall, stream=None, rec=None):
    """Print and write the results of PLAN's emulators; True if all passed.

    rec: (path, title, commit) to also write the run's record (record()).
    """
    rep = Report(out, stream)
    rep.echo('')
    rep.echo('==================== hvx check results ====================')
    for emu, progs in plan:
        report_emu(rep, emu.name, progs, timeout, status.get(emu.name, ''))
    rep.echo('')
    for emu, _progs in plan:
        e = emu.name
        logs = f'{out}/{e}-serial.log' + (f', {out}/{e}.log' if emu.kind == 'bochs' else '')
        rep.echo(f"{e}: {status.get(e) or 'not run'}; logs: {logs}, TAP: {out}/{e}/")
    if wall is not None:
        rep.echo(f'wall time: {wall // 60}m{wall % 60:02d}s')
    rep.echo(rep.summary())
    rep.write()
    if rec:
        record(rec[0], rec[1], rep, plan, status, wall, out, rec[2])
        rep.echo(f'record: {rec[0]}')
    return rep.ok()


def main(argv=None):
    ap = argparse.ArgumentParser(prog='hvxcheck.py', description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('emus', help='print the emulators HVX_EMUS and the programs select')
    p.add_argument('--tests', required=True, help='selected programs, space-separated')
    p = sub.add_parser('command', help='print the command line that starts one emulator')
    p.add_argument('emu')
    p = sub.add_parser('cpus', help="print one emulator's CPU count")
    p.add_argument('emu')
    p = sub.add_parser('only', help="print the hvx.only= value of one emulator's programs "
                       '(empty: all)')
    p.add_argument('emu')
    p.add_argument('--tests', required=True)
    for name in ('run', 'report', 'command'):
        p = sub.choices.get(name) or sub.add_parser(name)
        if name != 'command':
            p.add_argument('--tests', required=True)
        p.add_argument('--out', required=True, help='build/check')
        p.add_argument('--img', help='build/check/img (run)')
        p.add_argument('--timeout', default='300', help='per-test limit (for messages)')
        p.add_argument('--status', action='append', default=[], metavar='EMU=TEXT',
                       help='report: the emulator status to show')
        p.add_argument('--elapsed', type=int, default=0,
                       help='run: seconds spent before (building), for the wall time')
        p.add_argument('--record', metavar='FILE',
                       help="also write the run's record to FILE (markdown)")
        p.add_argument('--record-title', default='make check results',
                       help="the record's heading")
        p.add_argument('--record-commit', help="the commit tested (default: the tree's now)")
    a = ap.parse_args(argv)
    env = os.environ
    tests = a.tests.split() if getattr(a, 'tests', None) is not None else []

    def log(msg):
        print(f'{ME}: {msg}', flush=True)

    try:
        if a.cmd == 'cpus':
            if a.emu not in EMULATORS:
                raise UsageError(f"unknown emulator '{a.emu}'")
            print(EMULATORS[a.emu].cpus)
            return 0
        if a.cmd == 'command':
            run = EMULATORS[a.emu].programs or ()
            print(' '.join(emu_command(EMULATORS[a.emu], run, (), a.img or a.out + '/img',
                                       a.out, env)))
            return 0
        plan = select_emus(env.get('HVX_EMUS', ''), tests, env)
    except UsageError as e:
        print(f'{ME}: {e}', file=sys.stderr)
        if a.cmd not in ('emus', 'only', 'cpus'):   # check.sh prints the summary then
            print('0 passed, 1 failed, 0 skipped')
        return 1
    if a.cmd == 'emus':
        print(' '.join(e.name for e, _ in plan))
        return 0
    if a.cmd == 'only':
        run = dict((e.name, progs) for e, progs in plan).get(a.emu, [])
        print(only_arg(run, tests).replace(' hvx.only=', ''))
        return 0
    status = dict(s.split('=', 1) for s in a.status)
    if a.cmd == 'report':
        rec = (a.record, a.record_title, a.record_commit) if a.record else None
        return 0 if report(a.out, plan, a.timeout, status, None, rec=rec) else 1

    t0 = time.monotonic()
    runner = Runner(a.out, log)

    def on_signal(_sig, _frame):
        raise SystemExit(130)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        after = start_after(plan)
        for emu, progs in plan:
            args = (emu_limit(emu, progs, env),
                    emu_command(emu, progs, tests, a.img, a.out, env), a.img)
            if emu.name in after:
                runner.start_later(emu.name, after[emu.name], *args)
            else:
                runner.start(emu.name, *args)
        runner.supervise()
    finally:
        runner.cleanup()
    wall = a.elapsed + int(time.monotonic() - t0)
    rec = (a.record, a.record_title, a.record_commit) if a.record else None
    return 0 if report(a.out, plan, a.timeout, runner.status, wall, rec=rec) else 1


if __name__ == '__main__':
    sys.exit(main())
