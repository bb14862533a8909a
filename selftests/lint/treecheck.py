#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""treecheck: the tree rules that no compiler checks.

Three rules, over every file git tracks (or every file under --root when
it is not a git checkout):

include   The dependency rule of kmod/README.md: kmod -> vmx -> ept and
          kmod -> iommu -> ept; uapi/ includes nothing of the module.
          An #include "..." in vmx/, iommu/, ept/ or uapi/ that resolves
          to a folder above it (or beside it) is a finding.
abspath   An absolute path of a build machine (its work, home or
          temporary directories): the tree must build and read the same
          on any machine.
issue     A tracker issue number ("issue 17", "#17"): the tree states
          what is true, not the history of how it became so.

Exceptions are listed, each with its reason, in allowlist.txt beside this
script (its own header says how). Output: one "path:line: rule: text"
line per finding, then a count; exit status 1 when there is a finding.

    treecheck.py [--root DIR] [--allowlist FILE]
    treecheck.py --self-test
"""

import argparse
import fnmatch
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ALLOWLIST = os.path.join(HERE, "allowlist.txt")

# Which kernel folders a folder may include from (kmod/README.md, "Rooms").
MAY_INCLUDE = {
    "kmod": {"kmod", "vmx", "ept", "iommu", "uapi"},
    "vmx": {"vmx", "ept", "uapi"},
    "iommu": {"iommu", "ept", "uapi"},
    "ept": {"ept", "uapi"},
    "uapi": {"uapi"},
}
# Kbuild's include path (-I$(src) -I$(src)/uapi), after the file's folder.
INCLUDE_DIRS = ("", "uapi")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

# Built from pieces so that this file does not match itself.
_ABS_DIRS = ("work", "tmp", "home", "root", "scratch", "Users", "mnt", "srv")
ABSPATH_RE = re.compile(r"(?<![\w.~$-])/(?:" + "|".join(_ABS_DIRS) + r")/")

_NUM = r"#?\s*\d+\b"
ISSUE_RES = (
    re.compile(r"\b(?:issue|issues|ticket|bug)\s+(?:show\s+)?" + _NUM, re.I),
    re.compile(r"\b(?:issue|issues|ticket|bug)#\d+\b", re.I),
    # a bare "#17"; not a C preprocessor line, "$#", "&#" or "mechanism #1"
    re.compile(r"(?<![\w&$#/])#\d+\b"),
)
# Number signs that are not issue numbers: names of hardware ("configuration
# mechanism #1"), the kernel's oops counter ("Oops: 0000 [#1]"), and a string
# literal that is only a numbered test id (TAP's "ok 1", parsed as '#1').
ISSUE_NOT = re.compile(r"mechanism\s+#\d|\[#\d+\]|(['\"])#\d+\1", re.I)

SKIP_EXT = (".png", ".jpg", ".gz", ".xz", ".bin", ".iso", ".deb", ".o",
            ".ko")


class Allowlist:
    """Lines "RULE PATH-GLOB DETAIL  # reason"; see allowlist.txt."""

    def __init__(self, text=""):
        self.entries = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            line = re.split(r"\s#", line, maxsplit=1)[0]
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3 or parts[0] not in ("include", "abspath",
                                                    "issue"):
                raise ValueError(f"allowlist line {n}: want RULE PATH DETAIL")
            self.entries.append(tuple(parts))
        self.used = set()

    def allows(self, rule, path, detail):
        for e in self.entries:
            if e[0] == rule and fnmatch.fnmatch(path, e[1]) and (
                    e[2] == detail or e[2] in detail):
                self.used.add(e)
                return True
        return False


def list_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"],
                             check=True, capture_output=True).stdout
        files = [f for f in out.decode().split("\0") if f]
        if files:
            return sorted(files)
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", "build")]
        for name in names:
            files.append(os.path.relpath(os.path.join(d, name), root))
    return sorted(files)


def top(path):
    return path.split("/", 1)[0] if "/" in path else ""


def resolve_include(root, path, inc):
    """The repository path an #include "inc" in path refers to, or None."""
    for base in (os.path.dirname(path),) + INCLUDE_DIRS:
        cand = os.path.normpath(os.path.join(base, inc))
        if not cand.startswith("..") and os.path.isfile(
                os.path.join(root, cand)):
            return cand
    return None


def check_file(root, path, text, allow):
    findings = []
    own = top(path)
    for n, line in enumerate(text.splitlines(), 1):
        m = INCLUDE_RE.match(line)
        if m and own in MAY_INCLUDE and path.endswith((".c", ".h", ".S")):
            target = resolve_include(root, path, m.group(1))
            if target and top(target) in MAY_INCLUDE and \
                    top(target) not in MAY_INCLUDE[own] and \
                    not allow.allows("include", path, target):
                findings.append((path, n, "include",
                                 f"{own}/ includes {target} (kmod -> vmx -> "
                                 "ept, kmod -> iommu -> ept)"))
        for m in ABSPATH_RE.finditer(line):
            if not allow.allows("abspath", path, m.group(0)):
                findings.append((path, n, "abspath",
                                 "absolute path of a build machine: "
                                 + line.strip()[:100]))
                break
        if ISSUE_NOT.search(line):
            line = ISSUE_NOT.sub("", line)
        for r in ISSUE_RES:
            m = r.search(line)
            if m and not allow.allows("issue", path, m.group(0)):
                findings.append((path, n, "issue",
                                 "issue number: " + line.strip()[:100]))
                break
    return findings


def check_tree(root, allow, skip=()):
    findings = []
    for path in list_files(root):
        if path in skip or path.endswith(SKIP_EXT):
            continue
        full = os.path.join(root, path)
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:
            continue
        findings += check_file(root, path, data.decode("utf-8", "replace"),
                               allow)
    return findings


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.normpath(
        os.path.join(HERE, "..", "..")))
    ap.add_argument("--allowlist", default=DEFAULT_ALLOWLIST)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if args.self_test:
        import unittest
        sys.path.insert(0, HERE)
        suite = unittest.defaultTestLoader.loadTestsFromName("treecheck_test")
        ok = unittest.TextTestRunner(verbosity=1).run(suite).wasSuccessful()
        return 0 if ok else 1

    with open(args.allowlist) as f:
        allow = Allowlist(f.read())
    root = os.path.abspath(args.root)
    # This checker, its test and its allowlist spell out what they look for.
    me = os.path.relpath(os.path.abspath(__file__), root)
    skip = {me, os.path.join(os.path.dirname(me), "treecheck_test.py"),
            os.path.relpath(os.path.abspath(args.allowlist), root)}
    findings = check_tree(root, allow, skip)
    for path, n, rule, text in findings:
        print(f"{path}:{n}: {rule}: {text}")
    for e in allow.entries:
        if e not in allow.used:
            print(f"treecheck: note: allowlist entry unused: {' '.join(e)}")
    print(f"treecheck: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
