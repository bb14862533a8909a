#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# get-kselftest.sh DESTDIR
#
# Puts the kernel's kselftest_harness.h and kselftest.h into DESTDIR. They are
# not shipped in linux-headers, so take them from Debian's linux-source-6.1
# package (the kernel the emulated host runs): download the .deb, and stream
# just these two files out of the source tarball inside it. Takes ~25 s.
set -eu

dest=${1:?usage: get-kselftest.sh DESTDIR}
pkg=linux-source-6.1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Try with the current package lists first; refresh them only if needed.
if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
	apt-get update >/dev/null
	(cd "$tmp" && apt-get download "$pkg")
fi

deb=$(ls "$tmp"/"$pkg"_*.deb)
dpkg-deb --fsys-tarfile "$deb" |
	tar -x --wildcards '*/linux-source-6.1.tar.xz' -O |
	xz -dc |
	tar -x -C "$tmp" --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'

mkdir -p "$dest"
for f in kselftest_harness.h kselftest.h; do
	src=$(find "$tmp" -path "*/tools/testing/selftests/$f" | head -n 1)
	[ -n "$src" ] || { echo "get-kselftest: $f not found in $pkg" >&2; exit 1; }
	cp "$src" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
done
echo "get-kselftest: kselftest_harness.h and kselftest.h in $dest"
