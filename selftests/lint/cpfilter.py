#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""cpfilter.py ALLOW < checkpatch --terse --show-types output

Prints the findings that no line of ALLOW ("PATH-GLOB TYPE  # why")
excuses, and every line that is not a finding (so nothing unexpected
is lost).
"""

import fnmatch
import re
import sys

FINDING = re.compile(r"^(\S+?):(\d+): (?:ERROR|WARNING|CHECK):([A-Z0-9_]+):")


def main():
    allow = []
    with open(sys.argv[1]) as f:
        for line in f:
            line = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].split()
            if line:
                allow.append((line[0], line[1]))
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        m = FINDING.match(line)
        if m and any(fnmatch.fnmatch(m.group(1), g) and m.group(3) == t
                     for g, t in allow):
            continue
        print(line)


if __name__ == "__main__":
    main()
