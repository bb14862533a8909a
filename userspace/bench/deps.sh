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

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "bench deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "bench deps: installing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "bench deps: must run as root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
for p in "${missing[@]}"; do
	installed "$p" || { echo "bench deps: $p still missing after install" >&2; exit 1; }
done
echo "bench deps: done"
