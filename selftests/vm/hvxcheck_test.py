#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of hvxcheck.py: python3 -m unittest hvxcheck_test (in this
directory), or `make check-runner`. Standard library only; a few seconds.

The serial logs in test_data/ are small hand-written ones. ParityTest runs
test_data/check_sh_report.sh (the result step of the bash check.sh this
runner replaced) and hvxcheck.py on the same logs and compares the output;
HVX_PARITY_LOGS=DIR adds every DIR/*-serial.log (e.g. build/check) to it.
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import unittest.mock

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'test_data')
sys.path.insert(0, HERE)
import hvxcheck  # noqa: E402
from hvxcheck import Result  # noqa: E402


def tap(text):
    return text.strip('\n').split('\n') if text.strip('\n') else []


def data_lines(name):
    return hvxcheck.read_lines(os.path.join(DATA, name))


def program_lines(log, program):
    """A program's lines between its BEGIN and END markers in a test log."""
    out, on = [], False
    for line in data_lines(log):
        if line.startswith('### HVX-BEGIN ' + program):
            on = True
        elif line.startswith('### HVX-END ' + program):
            break
        elif on:
            out.append(line)
    return out


class TapTest(unittest.TestCase):
    def test_good(self):
        r = hvxcheck.parse_tap(program_lines('good.log', 'a_test'), '1', '300')
        self.assertEqual(r, [
            Result('PASS', 'global.first'),
            # The first assertion message of the case is its reason.
            Result('FAIL', 'global.second', 'a_test.c:42:second:Expected 1 (1) == 2 (2)'),
            Result('SKIP', 'global.third', 'no VMX on this CPU (QEMU TCG): needs Bochs'),
            Result('PASS', 'global.fourth'),
        ])

    def test_skip_without_name(self):
        # 6.1's harness: "ok N # SKIP reason"; the name is the RUN line's.
        r = hvxcheck.parse_tap(tap('1..2\n#  RUN           global.a ...\nok 1 # SKIP why\n'
                                   'ok 2 # SKIP no run line'), '0', '300')
        self.assertEqual(r, [Result('SKIP', 'global.a', 'why'), Result('SKIP', '#2', 'no run line')])

    def test_all_pass(self):
        r = hvxcheck.parse_tap(tap('1..2\nok 1 a\nok 2 b'), '0', '300')
        self.assertEqual(r, [Result('PASS', 'a'), Result('PASS', 'b')])

    def test_plan_skip(self):
        self.assertEqual(hvxcheck.parse_tap(tap('1..0 # SKIP no hvx here'), '4', '300'),
                         [Result('SKIP', '', 'no hvx here')])
        self.assertEqual(hvxcheck.parse_tap([], '4', '300'),
                         [Result('SKIP', '', 'exit code 4, no TAP results')])
        self.assertEqual(hvxcheck.parse_tap(tap('1..0 # Skipped:'), '0', '300'),
                         [Result('SKIP', '', 'skipped')])

    def test_no_tap(self):
        self.assertEqual(hvxcheck.parse_tap([], '0', '300'), [Result('PASS', '')])
        self.assertEqual(hvxcheck.parse_tap(tap('hello'), '2', '300'),
                         [Result('FAIL', '', 'exit code 2, no TAP results')])

    def test_truncated(self):
        # BEGIN without END: the host went down during the program.
        r = hvxcheck.parse_tap(tap('1..3\nok 1 a\nnot ok 2 b'), 'none', '300')
        self.assertEqual(r[-1], Result(
            'FAIL', '', 'no END marker: the test crashed or hung the emulated host'))
        self.assertEqual(r[:2], [Result('PASS', 'a'), Result('FAIL', 'b', '')])
        self.assertEqual(hvxcheck.parse_tap([], 'notrun', '300'), [Result(
            'FAIL', '', 'not run: the emulated host stopped before this test')])

    def test_plan_short(self):
        self.assertEqual(hvxcheck.parse_tap(tap('1..3\nok 1 a\nok 2 b'), '0', '300')[-1],
                         Result('FAIL', '', 'planned 3 results, got 2'))
        # A failed case already fails the program: no second line.
        self.assertEqual(len(hvxcheck.parse_tap(tap('1..3\nnot ok 1 a'), '1', '300')), 1)

    def test_timeouts(self):
        self.assertEqual(hvxcheck.parse_tap(tap('1..3\nok 1 a'), '124', '30')[-1],
                         Result('FAIL', '', 'timed out after 30s'))
        stuck = tap('1..3\nok 1 a\n### HVX-STUCK a_test: unkillable, moving on')
        self.assertEqual(hvxcheck.parse_tap(stuck, '124', '30')[-1],
                         Result('FAIL', '', 'timed out after 30s and could not be killed'))

    def test_bail_and_signal(self):
        self.assertEqual(hvxcheck.parse_tap(tap('Bail out! no /dev/hvx  '), '1', '300'),
                         [Result('FAIL', '', 'Bail out! no /dev/hvx')])
        self.assertEqual(hvxcheck.parse_tap(tap('1..1\nok 1 a'), '139', '300')[-1], Result(
            'FAIL', '', 'exit code 139 (signal 11) but no "not ok" line'))

    def test_malformed(self):
        r = hvxcheck.parse_tap(program_lines('malformed.log', 'a_test'), '1', '300')
        self.assertEqual(r, [
            Result('PASS', '#1'),
            Result('FAIL', '#2', ''),
            Result('PASS', 'dashed name'),            # ok + TODO passes
            Result('SKIP', 'todo failure', 'TODO: not yet'),
            Result('PASS', 'expected'),               # not ok + XFAIL
            Result('SKIP', 'extra', 'with a colon'),
            Result('SKIP', '#7', 'skipped'),
        ])

    def test_crlf(self):
        self.assertEqual(hvxcheck.parse_tap(['1..1\r', 'ok 1 a\r'], '0', '300'),
                         [Result('PASS', 'a')])


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix='hvxcheck-test.')
        self.addCleanup(shutil.rmtree, self.out)

    def report(self, log, emu, tests, status=None):
        shutil.copy(os.path.join(DATA, log), f'{self.out}/{emu}-serial.log')
        plan = [(hvxcheck.EMULATORS[emu], tests)]
        buf = io.BytesIO()
        ok = hvxcheck.report(self.out, plan, '300', status or {}, None, buf)
        return ok, buf.getvalue().decode('latin-1')

    def test_good(self):
        ok, text = self.report('good.log', 'qemu', ['a_test', 'b_test', 'c_test'])
        self.assertFalse(ok)
        self.assertIn('FAIL  qemu/a_test/global.second : a_test.c:42:second:', text)
        self.assertIn('SKIP  qemu/b_test : no hvx here', text)
        self.assertTrue(text.endswith('4 passed, 1 failed, 2 skipped\n'))
        with open(f'{self.out}/results.txt') as f:
            self.assertEqual(f.read().splitlines()[-1], '4 passed, 1 failed, 2 skipped')
        with open(f'{self.out}/qemu/times.txt') as f:
            self.assertEqual(f.read(), 'a_test 0.52\nb_test 0.01\nc_test 1.00\n')
        with open(f'{self.out}/qemu-dmesg.log') as f:
            self.assertIn('hvx: loaded', f.read())

    def test_record(self):
        shutil.copy(os.path.join(DATA, 'good.log'), f'{self.out}/qemu-serial.log')
        plan = [(hvxcheck.EMULATORS['qemu'], ['a_test', 'b_test', 'c_test'])]
        rec = f'{self.out}/rec.md'
        hvxcheck.report(self.out, plan, '300', {'qemu': 'exited rc=0 after 9s'}, 75,
                        io.BytesIO(), rec=(rec, 'the title', None))
        with open(rec) as f:
            text = f.read()
        self.assertTrue(text.startswith('# the title\n'))
        self.assertIn('- wall time: 1m15s\n', text)
        self.assertIn('- result: 4 passed, 1 failed, 2 skipped\n', text)
        self.assertIn('| qemu | exited rc=0 after 9s | 4 | 1 | 2 |\n', text)
        self.assertIn('## Failures\n\n- `qemu/a_test/global.second`: a_test.c:42:second:', text)
        self.assertIn('- `qemu/b_test`: no hvx here\n', text)
        self.assertRegex(text, r'- commit: `[0-9a-f]+(-dirty)?`|- commit: `unknown`')
        hvxcheck.report(self.out, plan, '300', {}, None, io.BytesIO(),
                        rec=(rec, 'the title', 'abc123'))
        with open(rec) as f:
            self.assertIn('- commit: `abc123`\n', f.read())

    def test_record_names_no_build_path(self):
        why = f'oops/BUG/WARNING/panic in {hvxcheck.REPO}/build/check/bochs-serial.log:'
        self.assertEqual(hvxcheck.in_tree(why),
                         'oops/BUG/WARNING/panic in build/check/bochs-serial.log:')
        self.assertTrue(os.path.isfile(os.path.join(hvxcheck.REPO, 'selftests/vm/hvxcheck.py')))

    def test_oops_fails_the_run(self):
        ok, text = self.report('oops.log', 'bochs', ['mem_test'])
        self.assertFalse(ok)
        self.assertIn('PASS  bochs/mem_test/oom', text)
        self.assertIn('FAIL  bochs/kernel : oops/BUG/WARNING/panic in', text)
        self.assertIn('        15:[   25.000000] BUG: unable to handle', text)
        self.assertIn('        17:[   25.000002] Call Trace:', text)
        # The OOM kill's stack and TAP diagnostics are not kernel trouble.
        self.assertNotIn('13:', text)
        self.assertNotIn('WARNING: not a kernel line', text.split('FAIL  bochs/kernel')[1])

    def test_injected_allocation_failure(self):
        # churn_test's failslab makes the kernel's own vmalloc report the
        # failure; another program's report is still trouble.
        log = ['[   85.4] churn_test: vmalloc error: size 896, vm_struct allocation failed',
               '[   85.4] CPU: 0 PID: 392 Comm: churn_test Tainted: G           O',
               '[   85.4] Hardware name:  , BIOS Bochs 2.7 29/12/2019',
               '[   85.4] Call Trace:']
        self.assertEqual(hvxcheck.kernel_trouble(log, kernel=''), [])
        other = [log[0].replace('churn_test:', 'api_test:')] + log[1:]
        self.assertEqual(len(hvxcheck.kernel_trouble(other, kernel='')), 1)
        self.assertEqual(len(hvxcheck.kernel_trouble(log + ['[   86.0] WARNING: at x'],
                                                     kernel='')), 1)

    def test_sysrq_backtraces(self):
        # Stacks that sysrq 'l' asked for are not trouble; the same stack
        # without the request (an RCU stall's, say) is.
        log = ['[   22.7] sysrq: Show backtrace of all active CPUs',
               '[   22.7] NMI backtrace for cpu 0',
               '[   22.7] CPU: 0 PID: 1 Comm: guard_test',
               '[   22.7] Call Trace:',
               '[   22.7] Sending NMI from CPU 0 to CPUs 1:',
               '[   22.7] NMI backtrace for cpu 1'] + \
              ['[   22.7] R%02d: 0' % i for i in range(12)] + \
              ['[   22.7] Call Trace:']
        self.assertEqual(hvxcheck.kernel_trouble(log, kernel=''), [])
        self.assertEqual(len(hvxcheck.kernel_trouble(log[1:], kernel='')), 2)
        far = log[:1] + ['[   22.8] x'] * 400 + log[1:]
        self.assertEqual(len(hvxcheck.kernel_trouble(far, kernel='')), 2)

    def test_oom_report_of_6_12(self):
        # 6.12 prints a "Tainted:" line between CPU and hardware name.
        log = ['[  114.393525] mem_test invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0',
               '[  114.393696] CPU: 0 UID: 0 PID: 681 Comm: mem_test Tainted: G        W  OE',
               '[  114.393933] Tainted: [W]=WARN, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE',
               '[  114.393995] Hardware name:  , BIOS Bochs 2.7 29/12/2019',
               '[  114.394056] Call Trace:',
               '[  114.394109]  <TASK>',
               '[  200.000000] Call Trace:']
        self.assertEqual(hvxcheck.kernel_trouble(log, kernel='6.12.118+deb12-amd64'),
                         ['7:[  200.000000] Call Trace:'])

    def test_known_7x_boot_warning(self):
        for first in ('[    0.000000] WARNING: arch/x86/kernel/cpu/topology_common.c:92 at '
                      'parse_legacy+0xb4/0xc0, CPU#0: swapper/0',
                      '[    0.000000] WARNING: CPU: 0 PID: 0 at '
                      'arch/x86/kernel/cpu/topology_common.c:123 parse_legacy+0x1/0x2'):
            log = [first,
                   '[    0.000000] Call Trace:',
                   '[    0.000000] ---[ end trace 0000000000000000 ]---',
                   '[    1.000000] hvx: loaded',
                   '[    2.000000] WARNING: CPU: 0 PID: 1 at '
                   'arch/x86/kernel/cpu/topology_common.c:123 parse_legacy+0x1/0x2']
            # Only the 7.x kernel's first report at time 0 is a known quirk.
            self.assertEqual(len(hvxcheck.kernel_trouble(log, kernel='')), 3)
            self.assertEqual(len(hvxcheck.kernel_trouble(log, kernel='6.1.0-56-amd64')), 3)
            self.assertEqual(len(hvxcheck.kernel_trouble(log, kernel='6.12.118+deb12-amd64')), 1)
            bad = hvxcheck.kernel_trouble(log, kernel='7')
            self.assertEqual(len(bad), 1)
            self.assertIn('[    2.000000] WARNING', bad[0])
            # A second boot (the kexec step) may print it once again.
            again = ['[    0.000000] Linux version 7.2.13', first,
                     '[    0.000000] ---[ end trace 0000000000000000 ]---']
            self.assertEqual(hvxcheck.kernel_trouble(log + again, kernel='7'), bad)
            twice = hvxcheck.kernel_trouble(log + again[1:], kernel='7')
            self.assertTrue(any('[    0.000000] WARNING' in b for b in twice))

    def test_crash(self):
        ok, text = self.report('crash.log', 'qemu', ['a_test', 'passthrough_test'],
                               {'qemu': 'TIMEOUT: killed after the 600s wall-clock limit'})
        self.assertFalse(ok)
        self.assertIn('FAIL  qemu/a_test : no END marker', text)
        self.assertIn('FAIL  qemu/passthrough_test : not run', text)
        self.assertIn('FAIL  qemu/alldone : ### HVX-ALLDONE missing (emulator: TIMEOUT', text)

    def test_timeouts_kmemleak(self):
        ok, text = self.report('timeout.log', 'bochs',
                               ['a_test', 'b_test', 'c_test', 'd_test', 'e_test', 'f_test'])
        self.assertIn('FAIL  bochs/a_test : timed out after 300s and could not be killed', text)
        self.assertIn('FAIL  bochs/b_test : timed out after 300s\n', text)
        self.assertIn('FAIL  bochs/c_test : planned 3 results, got 2', text)
        self.assertIn('FAIL  bochs/kmemleak : 2 unreferenced object(s)', text)

    def test_kexec_insmod(self):
        ok, text = self.report('kexec.log', 'bochs', ['vmxlife_test'])
        self.assertIn('FAIL  bochs/vmxlife_test/kexec_with_running_vm : '
                      "the kexec'd kernel brought up 1 of 2 CPUs", text)
        self.assertIn('FAIL  bochs/insmod : insmod hvx.ko failed (rc=1)', text)
        self.assertIn('PASS  bochs/kmemleak', text)

    def test_rerun(self):
        # report on the logs of an earlier report gives the same lines.
        _, first = self.report('crash.log', 'qemu', ['a_test', 'passthrough_test'])
        _, again = self.report('crash.log', 'qemu', ['a_test', 'passthrough_test'])
        self.assertEqual(first, again)


def normalize(text):
    return [line for line in text.splitlines() if not line.startswith('wall time:')]


def legacy_programs(emu, tests):
    """The programs the bash check.sh ran in EMU (its emu_tests), for the
    parity test: QEMU TCG ran every program then."""
    if emu == 'bochs-spec':
        return [t for t in tests if t in ('spec_test', 'exits_test', 'events_test')]
    if emu == 'qemu-nointremap':
        return [t for t in tests if t == 'passthrough_test']
    return tests


class ParityTest(unittest.TestCase):
    """hvxcheck.py prints what the bash check.sh printed, on the same logs."""

    CASES = [
        ('good.log', 'qemu', 'a_test b_test c_test'),
        ('good.log', 'bochs-spec', 'a_test spec_test'),
        ('oops.log', 'bochs', 'mem_test'),
        ('crash.log', 'qemu', 'a_test passthrough_test'),
        ('crash.log', 'qemu-nointremap', 'passthrough_test'),
        ('timeout.log', 'bochs', 'a_test b_test c_test d_test e_test f_test'),
        ('kexec.log', 'bochs-smp', 'vmxlife_test'),
        ('malformed.log', 'qemu', 'a_test b_test c_test d_test'),
    ]

    def both(self, serial, emu, tests, status):
        """Both reporters' output and results.txt, each on a fresh copy of
        SERIAL in the same directory (the messages name it)."""
        out = tempfile.mkdtemp(prefix='hvxcheck-parity.')
        self.addCleanup(shutil.rmtree, out)
        got = []
        for which in ('bash', 'python'):
            for f in os.listdir(out):
                p = os.path.join(out, f)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
            shutil.copy(serial, f'{out}/{emu}-serial.log')
            args = [f'{emu}={status}'] if status else []
            if which == 'bash':
                env = dict(os.environ, OUT=out, EMUS=emu, TESTS_LIST=tests, test_timeout='300')
                p = subprocess.run(['bash', os.path.join(DATA, 'check_sh_report.sh')] + args,
                                   env=env, stdout=subprocess.PIPE)
                text, rc = p.stdout.decode('latin-1'), p.returncode
            else:
                buf = io.BytesIO()
                plan = [(hvxcheck.EMULATORS[emu], legacy_programs(emu, tests.split()))]
                ok = hvxcheck.report(out, plan, '300', {emu: status} if status else {},
                                     None, buf)
                text, rc = buf.getvalue().decode('latin-1'), 0 if ok else 1
            with open(f'{out}/results.txt', 'rb') as f:
                results = f.read()
            got.append((normalize(text), results, rc))
        return got

    def test_fixtures(self):
        for log, emu, tests in self.CASES:
            with self.subTest(log=log, emu=emu):
                bash, py = self.both(os.path.join(DATA, log), emu, tests, '')
                self.assertEqual(bash, py)

    def test_build_logs(self):
        """HVX_PARITY_LOGS=build/check: the logs of a real run. The program
        list is what the serial log ran."""
        d = os.environ.get('HVX_PARITY_LOGS')
        if not d:
            self.skipTest('HVX_PARITY_LOGS not set')
        n = 0
        for f in sorted(os.listdir(d)):
            if not f.endswith('-serial.log'):
                continue
            emu = f[:-len('-serial.log')]
            lines = hvxcheck.read_lines(os.path.join(d, f))
            tests = ' '.join(dict.fromkeys(m.group(1) for m in map(
                hvxcheck.RE_BEGIN.search, (x.replace('\r', '') for x in lines)) if m))
            n += 1
            with self.subTest(log=f):
                bash, py = self.both(os.path.join(d, f), emu, tests or 'none_test',
                                     'exited rc=0 after 60s')
                self.assertEqual(bash, py)
        self.assertGreater(n, 0)


class EmulatorTest(unittest.TestCase):
    TESTS = ['api_test', 'exits_test', 'novmx_test', 'passthrough_test', 'spec_test']

    def names(self, plan):
        return [(e.name, progs) for e, progs in plan]

    def test_default(self):
        plan = hvxcheck.select_emus('', self.TESTS, {}, nested=False)
        self.assertEqual(self.names(plan), [
            ('bochs', ['api_test', 'exits_test', 'passthrough_test', 'spec_test']),
            ('qemu', ['novmx_test', 'passthrough_test']),
            ('bochs-smp', ['api_test', 'exits_test', 'passthrough_test', 'spec_test']),
            ('bochs-spec', ['exits_test', 'spec_test']),
            ('qemu-nointremap', ['passthrough_test']),
        ])

    def test_debug_kernel(self):
        tests = ['churn_test', 'novmx_test', 'passthrough_test']
        plan = hvxcheck.select_emus('qemu', tests, {})
        self.assertEqual(self.names(plan), [('qemu', ['novmx_test', 'passthrough_test'])])
        plan = hvxcheck.select_emus('qemu', tests, {'HVX_HOST_VMLINUZ': '/k/bzImage'})
        self.assertEqual(self.names(plan), [('qemu', tests)])

    def test_default_nested(self):
        plan = hvxcheck.select_emus('', ['api_test', 'novmx_test'], {}, nested=True)
        self.assertEqual(self.names(plan), [('qemu-kvm', ['api_test']),
                                            ('qemu', ['novmx_test'])])

    def test_requested(self):
        plan = hvxcheck.select_emus('qemu bochs-spec', ['api_test', 'spec_test'],
                                    {'BOCHS_SPEC_TESTS': 'api_test'})
        # QEMU has nothing to run: left out.
        self.assertEqual(self.names(plan), [('bochs-spec', ['api_test'])])
        with self.assertRaisesRegex(hvxcheck.UsageError, "unknown emulator 'kvm'"):
            hvxcheck.select_emus('kvm', ['api_test'])
        with self.assertRaisesRegex(hvxcheck.UsageError, 'qemu-nointremap runs only'):
            hvxcheck.select_emus('qemu-nointremap', ['api_test'])
        with self.assertRaisesRegex(hvxcheck.UsageError, 'no emulator runs any of: api_test'):
            hvxcheck.select_emus('qemu', ['api_test'])

    def test_xhost(self):
        # bochs saves onto the disk it shares with bochs-spec, which
        # restores: it starts once bochs has ended. bochs-smp has no disk.
        tests = ['api_test', 'spec_test', 'xhost_test']
        plan = hvxcheck.select_emus('', tests, {}, nested=False)
        self.assertEqual(self.names(plan), [
            ('bochs', tests),
            ('bochs-smp', ['api_test', 'spec_test']),
            ('bochs-spec', ['spec_test', 'xhost_test']),
        ])
        self.assertEqual(hvxcheck.start_after(plan), {'bochs-spec': ('bochs',)})
        # Without the test, or without bochs, nothing waits.
        plan = hvxcheck.select_emus('', tests[:2], {}, nested=False)
        self.assertEqual(hvxcheck.start_after(plan), {})
        plan = hvxcheck.select_emus('bochs-spec', tests, {})
        self.assertEqual(hvxcheck.start_after(plan), {})

    def test_shares(self):
        # bochs-smp2 takes the tail of bochs-smp's programs and starts
        # when bochs and bochs-spec have ended; alone, bochs-smp runs all.
        tests = ['api_test', 'spec_test', 'virtio_test', 'vmxlife_test', 'xhost_test']
        plan = hvxcheck.select_emus('', tests, {}, nested=False)
        self.assertEqual(self.names(plan), [
            ('bochs', tests),
            ('bochs-smp', ['api_test', 'spec_test']),
            ('bochs-spec', ['spec_test', 'xhost_test']),
            ('bochs-smp2', ['virtio_test', 'vmxlife_test']),
        ])
        self.assertEqual(hvxcheck.start_after(plan), {'bochs-spec': ('bochs',),
                                                      'bochs-smp2': ('bochs', 'bochs-spec')})
        plan = hvxcheck.select_emus('bochs-smp', tests, {})
        self.assertEqual(self.names(plan), [('bochs-smp', tests[:4])])
        # Nothing left for the share: left out; the other waits for nothing.
        plan = hvxcheck.select_emus('bochs-smp bochs-smp2', ['api_test'], {})
        self.assertEqual(self.names(plan), [('bochs-smp', ['api_test'])])
        self.assertEqual(hvxcheck.start_after(plan), {})
        # The debug run's bochs2 starts at once, beside bochs.
        plan = hvxcheck.select_emus('bochs bochs2', tests, {})
        self.assertEqual(self.names(plan), [('bochs', ['api_test', 'xhost_test']),
                                            ('bochs2', ['spec_test', 'virtio_test',
                                                        'vmxlife_test'])])
        self.assertEqual(hvxcheck.start_after(plan), {})

    def test_only(self):
        # Bochs runs everything but novmx_test: /init gets hvx.only= then.
        self.assertEqual(hvxcheck.only_arg(['a_test'], ['a_test']), '')
        self.assertEqual(hvxcheck.only_arg(['a_test', 'c_test'], ['a_test', 'b_test', 'c_test']),
                         ' hvx.only=a_test,c_test')
        with unittest.mock.patch.dict(os.environ, {'HVX_EMUS': 'bochs'}), \
                unittest.mock.patch('sys.stdout', new_callable=io.StringIO) as out:
            self.assertEqual(hvxcheck.main(['only', 'bochs', '--tests', 'a_test novmx_test']), 0)
        self.assertEqual(out.getvalue(), 'a_test\n')

    def sysroot(self, kvm=True, nested='Y\n', flags='fpu vme vmx sse'):
        root = tempfile.mkdtemp(prefix='hvxcheck-root.')
        self.addCleanup(shutil.rmtree, root)
        if kvm:
            os.makedirs(f'{root}/dev')
            open(f'{root}/dev/kvm', 'w').close()
        if nested is not None:
            os.makedirs(f'{root}/sys/module/kvm_intel/parameters')
            with open(f'{root}/sys/module/kvm_intel/parameters/nested', 'w') as f:
                f.write(nested)
        os.makedirs(f'{root}/proc')
        with open(f'{root}/proc/cpuinfo', 'w') as f:
            f.write(f'processor\t: 0\nflags\t\t: {flags}\n\n')
        return root

    def test_nested_detection(self):
        self.assertTrue(hvxcheck.nested_vmx(self.sysroot()))
        self.assertTrue(hvxcheck.nested_vmx(self.sysroot(nested='1\n')))
        self.assertFalse(hvxcheck.nested_vmx(self.sysroot(kvm=False)))
        self.assertFalse(hvxcheck.nested_vmx(self.sysroot(nested='N\n')))
        self.assertFalse(hvxcheck.nested_vmx(self.sysroot(nested=None)))   # no kvm_intel
        self.assertFalse(hvxcheck.nested_vmx(self.sysroot(flags='fpu vme svm vmxx')))

    ENV = {'VMLINUZ': '/k/vmlinuz',
           'CMDLINE_QEMU': 'console=ttyS0,115200 quiet intel_iommu=on hvx.emu=qemu',
           'CMDLINE_QEMU_NOINTREMAP': 'console=ttyS0,115200 hvx.emu=qemu-nointremap'}

    def test_qemu_kvm_command(self):
        e = hvxcheck.EMULATORS['qemu-kvm']
        cmd = hvxcheck.emu_command(e, ['a_test'], ['a_test'], '/i', '/o', self.ENV)
        s = ' '.join(cmd)
        self.assertEqual(cmd[0], 'qemu-system-x86_64')
        self.assertIn('-accel kvm -cpu host', s)
        self.assertIn('-smp 2', s)
        self.assertIn('-device intel-iommu,intremap=on', s)
        self.assertIn('-serial file:/o/qemu-kvm-serial.log', s)
        self.assertIn('-kernel /k/vmlinuz -initrd /i/initrd.gz', s)
        self.assertEqual(cmd[-2:], ['-append', 'console=ttyS0,115200 quiet intel_iommu=on '
                                    'hvx.emu=qemu-kvm hugepagesz=1G hugepages=1 '
                                    'transparent_hugepage=never'])
        self.assertNotIn('tcg', s)

    def test_qemu_commands(self):
        e = hvxcheck.EMULATORS['qemu']
        cmd = hvxcheck.emu_command(e, ['novmx_test', 'passthrough_test'],
                                   ['api_test', 'novmx_test', 'passthrough_test'],
                                   '/i', '/o', self.ENV)
        self.assertIn('tcg', cmd)
        self.assertTrue(cmd[-1].endswith('hvx.emu=qemu hvx.only=novmx_test,passthrough_test'))
        e = hvxcheck.EMULATORS['qemu-nointremap']
        cmd = hvxcheck.emu_command(e, ['passthrough_test'], ['api_test', 'passthrough_test'],
                                   '/i', '/o', self.ENV)
        self.assertIn('/i/initrd-nointremap.gz', cmd)
        self.assertIn('intel-iommu,intremap=off', cmd)
        self.assertEqual(cmd[-1], self.ENV['CMDLINE_QEMU_NOINTREMAP'])
        e = hvxcheck.EMULATORS['bochs-smp']
        self.assertEqual(hvxcheck.emu_command(e, [], [], '/i', '/o', {}),
                         ['bochs', '-q', '-f', '/i/bochs-smp.bochsrc', '-rc', '/i/bochs.rc'])


    def test_limit_kexec(self):
        smp, qemu = hvxcheck.EMULATORS['bochs-smp'], hvxcheck.EMULATORS['qemu']
        kexec = {'HVX_KEXEC': '1'}
        self.assertEqual(hvxcheck.emu_limit(smp, ['vmxlife_test'], {}), 2400)
        self.assertEqual(hvxcheck.emu_limit(smp, ['vmxlife_test'], kexec),
                         2400 + hvxcheck.KEXEC_BOCHS_EXTRA)
        self.assertEqual(hvxcheck.emu_limit(smp, ['smp_test'], kexec), 2400)
        self.assertEqual(hvxcheck.emu_limit(qemu, ['vmxlife_test'], kexec), 600)
        self.assertEqual(hvxcheck.emu_limit(
            smp, ['vmxlife_test'], dict(kexec, HVX_BOCHS_TIMEOUT='700')), 700)


class RunnerTest(unittest.TestCase):
    """Supervision, with sh standing in for the emulator."""

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix='hvxcheck-run.')
        self.addCleanup(shutil.rmtree, self.out)
        self.logs = []
        self.runner = hvxcheck.Runner(self.out, self.logs.append)
        self.runner.POLL = 0.1
        self.runner.GRACE = 0.5

    def test_wall_clock_limit(self):
        self.runner.start('bochs', 1, ['sleep', '30'], self.out)
        t = time.monotonic()
        self.runner.supervise()
        self.assertLess(time.monotonic() - t, 10)
        self.assertEqual(self.runner.status['bochs'],
                         'TIMEOUT: killed after the 1s wall-clock limit')

    def test_exit_and_hang_after_power_off(self):
        serial = f'{self.out}/qemu-serial.log'
        self.runner.start('qemu', 60, ['sh', '-c', 'exit 3'], self.out)
        self.runner.start('bochs', 60, ['sh', '-c', f'sleep 0.3; echo "### HVX-DMESG-END" '
                                        f'>>{self.out}/bochs-serial.log; exec sleep 30'], self.out)
        self.runner.supervise()
        self.assertRegex(self.runner.status['qemu'], r'^exited rc=3 after \d+s$')
        self.assertRegex(self.runner.status['bochs'],
                         r'^did not exit after power-off, stopped by check.sh after \d+s$')
        self.assertTrue(os.path.exists(serial))

    def test_start_later(self):
        ended = f'{self.out}/bochs-ended'
        self.runner.start('bochs', 60, ['sh', '-c', f'sleep 0.5; touch {ended}'], self.out)
        self.runner.start_later('bochs-spec', ('bochs',), 60,
                                ['sh', '-c', f'test -e {ended}'], self.out)
        # A chain: the share waits for both, the second still waiting.
        self.runner.start_later('bochs-smp2', ('bochs', 'bochs-spec'), 60,
                                ['sh', '-c', f'test -e {ended}'], self.out)
        self.runner.supervise()
        self.assertRegex(self.runner.status['bochs'], r'^exited rc=0 after \d+s$')
        self.assertRegex(self.runner.status['bochs-spec'], r'^exited rc=0 after \d+s$')
        self.assertRegex(self.runner.status['bochs-smp2'], r'^exited rc=0 after \d+s$')
        self.assertIn('bochs-spec starts once bochs has ended', self.logs)
        self.assertIn('bochs-smp2 starts once bochs and bochs-spec have ended', self.logs)
        started = [m for m in self.logs if m.startswith('started ')]
        self.assertEqual([m.split()[1] for m in started], ['bochs', 'bochs-spec', 'bochs-smp2'])


if __name__ == '__main__':
    unittest.main()
