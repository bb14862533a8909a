#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh: build hvx against every kernel series it supports and check
# the result (`make kernels`). One line per kernel, then
# `kernels: N passed, N failed`; exits 1 if any failed.
#
#   6.1    the emulated host's headers (HVX_HOST_KVER): W=1 and sparse
#          (C=2) clean
#   6.12   the oldest and the newest linux-headers-6.12.*+deb12-amd64 in
#          the archive (bookworm-backports ABIs): W=1 clean
#   7.x    the newest linux-source-7.* of $HVX_K7_SUITE (default sid),
#          configured with Debian's own .config (olddefconfig with this
#          machine's gcc), modules_prepare, and Debian's Module.symvers, so
#          that modpost checks exports and namespaces as on Debian's kernel:
#     7.x          as Debian ships it: hvx must build W=1 clean *as the
#                  stub* (kmod/noexports.c) that refuses to load and names
#                  kmod/patches/;
#     7.x+patches  the same tree with kmod/patches/ applied: the full
#                  module must build and modpost W=1 clean. The patched
#                  kernel objects are compiled and the namespaces of the
#                  symbols they export are read from those objects into
#                  the tree's Module.symvers (a vmlinux build, which would
#                  write it, takes too long here).
#
# Everything is fetched with `apt-get download` into $HVX_BUILD/cache/kernels
# and unpacked there: no kernel package is installed (7.x packages
# come through a private apt configuration for the other suite; the
# machine's sources are not changed). Each kernel builds a fresh copy of
# the sources in $HVX_BUILD/kernels/<name>/ (log: <name>.log beside it),
# so the builds do not mix objects and every warning is seen.
#
# Environment: HVX_KERNELS (names to run, default all: 6.1 6.12-oldest
# 6.12-newest 7.x 7.x+patches), HVX_K7_SUITE (sid or trixie-backports),
# HVX_JOBS (make -j, default 2).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${HVX_BUILD:-$TOP/build}
CACHE=$BUILD/cache/kernels
OUT=$BUILD/kernels
JOBS=${HVX_JOBS:-2}
K7_SUITE=${HVX_K7_SUITE:-sid}
KERNELS=${HVX_KERNELS:-6.1 6.12-oldest 6.12-newest 7.x 7.x+patches}

if [[ -z "${HVX_HOST_KVER:-}" ]]; then
	HVX_HOST_KVER=$(sed -n 's/^HVX_HOST_KVER[[:space:]]*:\?=[[:space:]]*//p' "$TOP/Makefile")
fi

log() { echo "kernels: $*" >&2; }
die() { log "$*"; exit 1; }

# Building needs these besides what deps.sh installs: pahole for the BTF
# step of the 6.12 and 7.x headers, and what modules_prepare needs.
bash "$HERE/apt-install.sh" kernels.sh pahole bison flex libelf-dev bc \
	xz-utils sparse "linux-headers-$HVX_HOST_KVER" >&2

mkdir -p "$CACHE/debs" "$OUT"

# ---- fetching ---------------------------------------------------------

# apt7 ARGS...: apt-get/apt-cache with a private configuration for
# $K7_SUITE: own sources list, lists, cache and an empty dpkg status, so
# that nothing of the machine's apt state is read or written.
APT7=$CACHE/apt-$K7_SUITE
apt7_opts() {
	echo -o Dir::Etc::SourceList="$APT7/sources.list" \
		-o Dir::Etc::SourceParts="$APT7/parts" \
		-o Dir::Etc::Preferences="$APT7/prefs/none" \
		-o Dir::Etc::PreferencesParts="$APT7/prefs" \
		-o Dir::State="$APT7/state" \
		-o Dir::State::Lists="$APT7/lists" \
		-o Dir::State::status="$APT7/status" \
		-o Dir::Cache="$APT7/cache" \
		-o APT::Architecture=amd64 -o APT::Sandbox::User=root \
		-o Debug::NoLocking=1 -o Acquire::Retries=3
}
apt7_update() {
	mkdir -p "$APT7"/{parts,prefs,state,lists/partial,cache/archives/partial}
	: >"$APT7/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $K7_SUITE main" \
		>"$APT7/sources.list"
	# Refresh at most once a day: the newest 7.x moves, but not hourly.
	if [[ -z $(find "$APT7/lists" -name '*_Packages*' -mtime -1 2>/dev/null) ]]; then
		# shellcheck disable=SC2046
		apt-get $(apt7_opts) update >&2
	fi
}

# download DIR PACKAGE... [-- APTOPTS]: apt-get download into the cache
# unless the .deb is there already.
download() {
	local opts=() pkgs=() p
	while (($#)) && [[ $1 != -- ]]; do pkgs+=("$1"); shift; done
	(($#)) && { shift; opts=("$@"); }
	for p in "${pkgs[@]}"; do
		compgen -G "$CACHE/debs/${p}_*.deb" >/dev/null && continue
		(cd "$CACHE/debs" && apt-get "${opts[@]}" -o APT::Sandbox::User=root download "$p" >&2)
	done
}

# unpack DIR PACKAGE...: dpkg-deb -x each cached .deb into DIR once.
unpack() {
	local dir=$1 p
	shift
	[[ -e $dir/.unpacked ]] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	for p in "$@"; do
		dpkg-deb -x "$(compgen -G "$CACHE/debs/${p}_*.deb" | head -n1)" "$dir"
	done
	touch "$dir/.unpacked"
}

# kdir_612 oldest|newest: unpack that 6.12 ABI's headers; print the KDIR.
kdir_612() {
	local v
	v=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*\)+deb12-amd64 .*/\1/p' | sort -V |
		if [[ $1 == oldest ]]; then head -n1; else tail -n1; fi)
	[[ -n $v ]] || die "no linux-headers-6.12.*+deb12-amd64 in the archive (apt-get update?)"
	local pk=("linux-headers-$v+deb12-amd64" "linux-headers-$v+deb12-common" "linux-kbuild-$v+deb12")
	download "${pk[@]}"
	unpack "$CACHE/$v" "${pk[@]}"
	# The arch Makefile includes the common one by its installed path:
	# point it here (also when the cache was copied from elsewhere).
	sed -i "s|^include .*/usr/src/|include $CACHE/$v/usr/src/|" \
		"$CACHE/$v/usr/src/linux-headers-$v+deb12-amd64/Makefile"
	echo "$CACHE/$v/usr/src/linux-headers-$v+deb12-amd64"
}

# tree_7x: a 7.x source tree configured like Debian's kernel, with
# modules_prepare done and Debian's Module.symvers; print its path.
tree_7x() {
	local src hdr ver tree
	apt7_update
	# shellcheck disable=SC2046
	src=$(apt-cache $(apt7_opts) search --names-only '^linux-source-7\.[0-9]+$' |
		awk '{print $1}' | sort -V | tail -n1)
	[[ -n $src ]] || die "no linux-source-7.* in $K7_SUITE"
	# shellcheck disable=SC2046
	ver=$(apt-cache $(apt7_opts) show "$src" | sed -n 's/^Version: \([0-9.]*\).*/\1/p' | sort -V | tail -n1)
	# shellcheck disable=SC2046
	hdr=$(apt-cache $(apt7_opts) search --names-only "^linux-headers-$ver\+deb[0-9]+-amd64\$" |
		awk '{print $1}' | head -n1)
	[[ -n $hdr ]] || die "no linux-headers-$ver+deb*-amd64 in $K7_SUITE"
	# shellcheck disable=SC2046
	download "$src" "$hdr" -- $(apt7_opts)
	tree=$CACHE/$ver/$src
	if [[ ! -e $CACHE/$ver/.prepared ]]; then
		log "preparing $src $ver (Debian's config, once)"
		unpack "$CACHE/$ver/pkg" "$src" "$hdr"
		rm -rf "$tree"
		tar -C "$CACHE/$ver" -xf "$CACHE/$ver/pkg/usr/src/$src.tar.xz"
		local hd=$CACHE/$ver/pkg/usr/src/$hdr
		cp "$hd/.config" "$tree/.config"
		# Debian signs modules with keys that are not here, and builds
		# with a newer gcc: olddefconfig adapts the rest to gcc-12.
		"$tree/scripts/config" --file "$tree/.config" \
			--disable MODULE_SIG_ALL \
			--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS ""
		make -C "$tree" -s olddefconfig >&2
		make -C "$tree" -s -j"$JOBS" modules_prepare >&2
		cp "$hd/Module.symvers" "$tree/Module.symvers"
		touch "$CACHE/$ver/.prepared"
	fi
	echo "$tree"
}

# tree_7x_patched TREE: a copy of TREE (hard links) with kmod/patches/
# applied, the patched objects compiled, and Module.symvers updated with
# the namespaces those objects export; print its path. Redone when the
# series changes.
tree_7x_patched() {
	local tree=$1 pt=$1+patches sum f o sym ns
	sum=$(cat "$TOP"/kmod/patches/*.patch | md5sum | cut -d' ' -f1)
	if [[ ! -e $pt/.hvx-patches-$sum ]]; then
		log "applying kmod/patches/ to a copy of $(basename "$tree")"
		rm -rf "$pt"
		cp -al "$tree" "$pt"
		for f in "$TOP"/kmod/patches/*.patch; do
			# patch(1) writes a new file, breaking the hard link.
			patch -s -p1 -d "$pt" <"$f" >&2 || die "$(basename "$f") does not apply"
		done
		local objs=()
		while read -r f; do
			objs+=("${f%.*}.o")
		done < <(sed -n 's|^+++ b/\(.*\.[cS]\)$|\1|p' "$TOP"/kmod/patches/*.patch | sort -u)
		make -C "$pt" -s -j"$JOBS" "${objs[@]}" >&2
		# Each export is a record in .export_symbol at the label
		# __export_symbol_<sym>: the license, then the namespace.
		rm -f "$pt/Module.symvers"
		cp "$tree/Module.symvers" "$pt/Module.symvers.new"
		for o in "${objs[@]}"; do
			while read -r sym ns; do
				awk -v s="$sym" -v ns="$ns" 'BEGIN { FS = OFS = "\t" }
					$2 == s { $5 = ns } { print }' \
					"$pt/Module.symvers.new" >"$pt/Module.symvers.tmp"
				mv "$pt/Module.symvers.tmp" "$pt/Module.symvers.new"
			done < <(export_namespaces "$pt/$o")
		done
		mv "$pt/Module.symvers.new" "$pt/Module.symvers"
		touch "$pt/.hvx-patches-$sum"
	fi
	echo "$pt"
}

# export_namespaces OBJ: "symbol namespace" for each export in OBJ that
# has a namespace. Each export is a record in the object's .export_symbol
# section at the label __export_symbol_<sym>: the license string, then
# the namespace string (include/linux/export.h).
export_namespaces() {
	local obj=$1 off str sym lic ns
	local -A at=()
	while read -r off str; do
		at[$((16#$off))]=$str
	done < <(readelf -p .export_symbol "$obj" 2>/dev/null |
		sed -n 's/^ *\[ *\([0-9a-f]*\)\]  \(.*\)$/\1 \2/p')
	while read -r off sym; do
		off=$((16#$off))
		lic=${at[$off]:-}
		ns=${at[$((off + ${#lic} + 1))]:-}
		[[ -n $ns ]] && echo "$sym $ns"
	done < <(nm "$obj" | awk '$3 ~ /^__export_symbol_/ { print $1, substr($3, 17) }')
	return 0
}

# ---- building ---------------------------------------------------------

# sync_src DIR: a fresh copy of the module's sources in DIR. Every run
# builds from scratch: an incremental build would not repeat the warnings
# of files it does not recompile.
sync_src() {
	local dst=$1 f
	rm -rf "$dst"
	mkdir -p "$dst"
	(cd "$TOP" && find Kbuild kmod vmx ept iommu uapi -type f \
		\( -name Kbuild -o -name '*.[chS]' -o -name '*.sh' \) \
		! -name hvx_features.h ! -name '*.mod.c') |
	while read -r f; do
		mkdir -p "$dst/$(dirname "$f")"
		cp -p "$TOP/$f" "$dst/$f"
	done
}

pass=0
fail=0
result() { # NAME OK|FAIL TEXT
	printf 'kernels: %-12s %-4s %s\n' "$1" "$2" "$3"
	if [[ $2 == ok ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

# build NAME KDIR EXPECT [MAKEARGS...]: build hvx against KDIR, W=1.
# EXPECT: full (the whole module, no warnings) or stub (kmod/noexports.c,
# no warnings, naming kmod/patches/).
build() {
	local name=$1 kdir=$2 expect=$3 dst=$OUT/$1 logf=$OUT/$1.log rc=0 warn
	shift 3
	sync_src "$dst"
	local t0=$SECONDS
	make -C "$kdir" M="$dst" W=1 -j"$JOBS" "$@" modules >"$logf" 2>&1 || rc=$?
	# Kbuild's note that pahole differs from the kernel's is not ours.
	warn=$(grep -E 'warning:|WARNING:|error:|ERROR:' "$logf" | grep -cv 'pahole' || true)
	local what
	what=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$kdir/include/generated/utsrelease.h")
	what+=" W=1${*:+ $*}, $((SECONDS - t0))s"
	# the module's strings (its description, the stub's message)
	local ko=
	[[ -e $dst/hvx.ko ]] && ko=$(strings "$dst/hvx.ko")
	if ((rc != 0)); then
		result "$name" FAIL "$what: build failed ($(grep -m1 -E 'error|ERROR' "$logf" || echo "make exit $rc"))"
	elif ((warn != 0)); then
		result "$name" FAIL "$what: $warn warning(s), see $logf"
	elif [[ $expect == stub ]]; then
		if grep -q '^description=.*apply kmod/patches/' <<<"$ko" &&
		   grep -q 'does not export .* kmod/patches/' <<<"$ko"; then
			result "$name" ok "$what: as expected, the module that refuses to load ($(grep -m1 -o 'does not export .* to hvx' "$logf" | wc -w | awk '{print $1 - 5}') exports missing)"
		else
			result "$name" FAIL "$what: expected the noexports stub, got something else"
		fi
	else
		if [[ -n $ko ]] && ! grep -q '^description=.*kmod/patches/' <<<"$ko"; then
			result "$name" ok "$what: clean, modpost clean"
		else
			result "$name" FAIL "$what: hvx.ko or vmx/vmx.o missing"
		fi
	fi
}

t_start=$SECONDS
k7=
for k in $KERNELS; do
	case $k in
	6.1)
		build 6.1 "/usr/src/linux-headers-$HVX_HOST_KVER" full C=2 ;;
	6.12-oldest|6.12-newest)
		build "$k" "$(kdir_612 "${k#6.12-}")" full ;;
	7.x)
		[[ -n $k7 ]] || k7=$(tree_7x)
		build 7.x "$k7" stub ;;
	7.x+patches)
		[[ -n $k7 ]] || k7=$(tree_7x)
		build 7.x+patches "$(tree_7x_patched "$k7")" full ;;
	*)
		die "unknown kernel '$k' in HVX_KERNELS" ;;
	esac
done

echo "kernels: $pass passed, $fail failed ($((SECONDS - t_start))s)"
((fail == 0))
