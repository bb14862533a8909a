#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages `make bench` needs on top of `make check`'s
# (selftests/vm/deps.sh, which the Makefile runs first): gnuplot for the
# plot of the ratios (gnuplot-nox: no X11), linux-libc-dev for
# <linux/kvm.h>, python3 for userspace/bench/benchtool.py (trace parser,
# cost model, gate). `deps.sh smoke` (make bench-smoke, CI) installs only
# python3: the smoke run needs no plot. Same rules as selftests/vm/deps.sh:
# only missing packages are installed, with apt-get, as root.

set -euo pipefail

packages=(gnuplot-nox linux-libc-dev python3)
[[ "${1:-}" == smoke ]] && packages=(python3)

exec bash "$(dirname "${BASH_SOURCE[0]}")/../../selftests/vm/apt-install.sh" "bench deps" "${packages[@]}"
