# SPDX-License-Identifier: GPL-2.0
"""Unit tests of treecheck.py: `python3 treecheck.py --self-test`."""

import os
import tempfile
import unittest

import treecheck

# Spelled in pieces, as in treecheck.py, so the tree check passes on this file.
SLASH_WORK = "/" + "work/"
SLASH_TMP = "/" + "tmp/"
HASH = "#"


class TreeCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def run_check(self, allow=""):
        found = treecheck.check_tree(self.root, treecheck.Allowlist(allow))
        return [(p, n, r) for p, n, r, _ in found]

    def headers(self):
        for f in ("kmod/hvx_core.h", "kmod/compat.h", "ept/ept.h",
                  "vmx/vmx.h", "iommu/pt.h", "uapi/hvx.h"):
            self.write(f, "/* header */\n")


class IncludeRule(TreeCase):
    def test_downward_includes_pass(self):
        self.headers()
        self.write("kmod/vm.c", '#include "../vmx/vmx.h"\n'
                   '#include "../iommu/pt.h"\n#include "hvx.h"\n')
        self.write("vmx/exit.c", '#include "vmx.h"\n#include "../ept/ept.h"\n')
        self.assertEqual(self.run_check(), [])

    def test_upward_include_fails(self):
        self.headers()
        self.write("vmx/exit.c", '#include "vmx.h"\n'
                   '#include "../kmod/hvx_core.h"\n')
        self.assertEqual(self.run_check(), [("vmx/exit.c", 2, "include")])

    def test_upward_include_through_include_path_fails(self):
        # -I$(src) lets "kmod/x.h" resolve from any folder.
        self.headers()
        self.write("ept/slots.c", '#include "kmod/hvx_core.h"\n')
        self.assertEqual(self.run_check(), [("ept/slots.c", 1, "include")])

    def test_sideways_and_ept_upward_fail(self):
        self.headers()
        self.write("ept/ept.c", '#include "../vmx/vmx.h"\n')
        self.write("vmx/vmx.c", '#  include "../iommu/pt.h"\n')
        self.assertEqual(sorted(self.run_check()),
                         [("ept/ept.c", 1, "include"),
                          ("vmx/vmx.c", 1, "include")])

    def test_allowlist(self):
        self.headers()
        self.write("iommu/intr.c", '#include "../kmod/compat.h"\n')
        self.write("iommu/guest.c", '#include "../kmod/hvx_core.h"\n')
        allow = treecheck.Allowlist(
            "# comment\ninclude * kmod/compat.h  # version layer\n")
        found = treecheck.check_tree(self.root, allow)
        self.assertEqual([(p, r) for p, _, r, _ in found],
                         [("iommu/guest.c", "include")])
        self.assertEqual(len(allow.used), 1)

    def test_bad_allowlist_line(self):
        with self.assertRaises(ValueError):
            treecheck.Allowlist("include only-two-fields\n")


class TextRules(TreeCase):
    def test_absolute_paths(self):
        self.write("README.md", "see ../shared/notes\n"
                   "see " + SLASH_WORK + "main/x\n")
        self.write("selftests/vm/x.sh", "cd " + SLASH_TMP + "foo\n"
                   "ls /sys/kernel/tracing /lib/hvx ~/tmp/x\n")
        self.assertEqual(sorted(self.run_check()),
                         [("README.md", 2, "abspath"),
                          ("selftests/vm/x.sh", 1, "abspath")])

    def test_abspath_allowlist(self):
        self.write("selftests/vm/init.sh", "rm " + SLASH_TMP + "x\n")
        allow = "abspath selftests/vm/*.sh " + SLASH_TMP + " # guest\n"
        self.assertEqual(self.run_check(allow), [])

    def test_issue_numbers(self):
        self.write("a.c", "/* fixed in issue 17 */\n"
                   "/* see " + HASH + "24 */\n"
                   "#define X 1\n#include <x.h>\n"
                   "/* PCI configuration mechanism " + HASH + "1 */\n"
                   "/* what the tracker's issues show */\n")
        self.write("c.py", "r = Result('PASS', '" + HASH + "1')\n"
                   "log = 'Oops: 0000 [" + HASH + "1] SMP'\n"
                   "# the fix for '" + HASH + "12 and 13'\n")
        self.write("b.sh", "echo $" + HASH + "\nissues show 24\n"
                   "# Issue" + HASH + "3 and ticket 9\n")
        self.assertEqual(sorted(self.run_check()),
                         [("a.c", 1, "issue"), ("a.c", 2, "issue"),
                          ("b.sh", 2, "issue"), ("b.sh", 3, "issue"),
                          ("c.py", 3, "issue")])

    def test_binary_files_skipped(self):
        with open(os.path.join(self.root, "blob"), "wb") as f:
            f.write(b"\0issue 17 " + SLASH_WORK.encode())
        self.assertEqual(self.run_check(), [])


if __name__ == "__main__":
    unittest.main()
