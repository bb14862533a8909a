#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apt-install.sh WHO PACKAGE...: install the Debian packages that are not
# installed yet. Idempotent and fast when nothing is missing (each package
# is checked with dpkg first; apt-get runs, update then install, only for
# the missing ones). Installing needs root (CI runs as root, no sudo).
# WHO prefixes the messages. Used by deps.sh, debug-kernel.sh and
# userspace/bench/deps.sh.

set -euo pipefail

who=${1:?usage: apt-install.sh WHO PACKAGE...}
shift

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "$@"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "$who: all $# packages present"
	exit 0
fi

echo "$who: installing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "$who: must run as root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg (e.g. unattended-upgrades) instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
# Check again: apt-get can succeed without installing a requested package
# only in odd cases, but then the build would fail much later and less clearly.
for p in "${missing[@]}"; do
	installed "$p" || { echo "$who: $p still missing after apt-get install" >&2; exit 1; }
done
echo "$who: done"
