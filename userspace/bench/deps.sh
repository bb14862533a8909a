#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages `make bench` needs on top of `make check`'s
# (selftests/vm/deps.sh, which the Makefile runs first): gnuplot for the
# plot of the ratios (gnuplot-nox: no X11), and linux-libc-dev for
# <linux/kvm.h>. Same rules as selftests/vm/deps.sh: only missing packages
# are installed, with apt-get, as root.

set -euo pipefail

packages=(gnuplot-nox linux-libc-dev)

exec bash "$(dirname "${BASH_SOURCE[0]}")/../../selftests/vm/apt-install.sh" "bench deps" "${packages[@]}"
