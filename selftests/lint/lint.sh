#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: the style and structure checks, without an emulator.
#
#   1. treecheck   the tree rules (treecheck.py: dependency direction of
#                  #includes, no build-machine paths, no issue numbers),
#                  after its own unit tests
#   2. kernel-doc  `kernel-doc -none` over every kernel source: no warning
#   3. checkpatch  `checkpatch.pl --no-tree --strict` over every kernel
#                  source, less the exceptions in checkpatch.allow
#   4. build       hvx.ko with W=1 and C=2 (sparse on every file): no
#                  compiler or sparse warning
#
# Every step runs; the last line is `lint: N of 4 steps failed` (or
# `lint: clean`) and the exit status is 1 if any failed. LINT_STEPS="tree
# kdoc checkpatch build" picks steps. KDIR is the kernel build tree
# (the Makefile passes the emulated host's). HVX_CHECKPATCH=/path/to/
# checkpatch.pl uses another checkpatch (its spelling.txt and
# const_structs.checkpatch must sit beside it).
#
# checkpatch and kernel-doc come from a kernel source tree: the newest
# linux-source-7.* that `make kernels` cached in build/cache/kernels, or
# else Debian 12's linux-source-6.1 (installed if missing, as by `make
# check-debug`). Their scripts are copied once into build/cache/lint.

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$top/selftests/lint
cache=$top/build/cache/lint
out=$top/build/lint
KDIR=${KDIR:?KDIR must name a kernel build tree}
LINT_STEPS=${LINT_STEPS:-tree kdoc checkpatch build}
mkdir -p "$cache" "$out"
cd "$top" || exit 1

log() { echo "lint: $*"; }

# The kernel sources: everything Kbuild compiles or includes, less the
# feature tests (kmod/features/, built only to probe the target kernel).
mapfile -t sources < <(git ls-files 'kmod/*.[chS]' 'vmx/*.[chS]' 'ept/*.[chS]' \
	'iommu/*.[chS]' 'uapi/*.h' | grep -v '^kmod/features/')
if ((${#sources[@]} == 0)); then
	log "no kernel sources found (not a git checkout?)"
	exit 1
fi

# A directory holding checkpatch.pl, its data files and kernel-doc.
kernel_scripts() {
	local tree src tmp
	tree=$(ls -d "$top"/build/cache/kernels/7.*/linux-source-*/scripts 2>/dev/null |
		sort -V | tail -n1)
	if [[ -n $tree && -f $tree/checkpatch.pl && -e $tree/kernel-doc ]]; then
		echo "$tree"
		return
	fi
	if [[ ! -f $cache/scripts/checkpatch.pl ]]; then
		src=/usr/src/linux-source-6.1.tar.xz
		if [[ ! -f $src ]]; then
			bash "$top/selftests/vm/apt-install.sh" lint linux-source-6.1 >&2 ||
				return 1
		fi
		log "extracting checkpatch and kernel-doc from $src (once)" >&2
		tmp=$(mktemp -d "$cache/x.XXXXXX")
		tar -xJf "$src" -C "$tmp" \
			'linux-source-6.1/scripts/checkpatch.pl' \
			'linux-source-6.1/scripts/spelling.txt' \
			'linux-source-6.1/scripts/const_structs.checkpatch' \
			'linux-source-6.1/scripts/kernel-doc' || { rm -rf "$tmp"; return 1; }
		rm -rf "$cache/scripts"
		mv "$tmp/linux-source-6.1/scripts" "$cache/scripts"
		rm -rf "$tmp"
	fi
	echo "$cache/scripts"
}

step_tree() {
	python3 "$here/treecheck.py" --self-test >"$out/treecheck-selftest.log" 2>&1 || {
		cat "$out/treecheck-selftest.log"
		return 1
	}
	python3 "$here/treecheck.py"
}

step_kdoc() {
	local kd=$scripts/kernel-doc
	# The Python kernel-doc of newer trees also reports missing return
	# descriptions and the like under -Wall; the Perl one of 6.1 has no -Wall.
	if head -n1 "$kd" | grep -q python; then
		python3 "$kd" -none -Wall "${sources[@]}" 2>&1 | tee "$out/kernel-doc.log"
	else
		perl "$kd" -none "${sources[@]}" 2>&1 | tee "$out/kernel-doc.log"
	fi
	! grep -qi 'warning\|error' "$out/kernel-doc.log"
}

step_checkpatch() {
	local cp=${HVX_CHECKPATCH:-$scripts/checkpatch.pl} n
	log "checkpatch: $cp"
	perl "$cp" --no-tree --strict --terse --show-types --no-summary \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${sources[@]}" \
		>"$out/checkpatch.raw" 2>&1
	# checkpatch caches the CamelCase names it found in the current directory.
	rm -f "$top"/.checkpatch-camelcase.*
	python3 "$here/cpfilter.py" "$here/checkpatch.allow" <"$out/checkpatch.raw" \
		>"$out/checkpatch.log"
	n=$(grep -c . "$out/checkpatch.log")
	cat "$out/checkpatch.log"
	((n == 0))
}

step_build() {
	# C=2 runs sparse on every file, built or not; W=1 adds the extra
	# warnings. Any "warning:" or "error:" line fails the step.
	make -C "$KDIR" M="$top" W=1 C=2 modules >"$out/build.log" 2>&1
	local rc=$?
	grep -E 'warning:|error:' "$out/build.log"
	if ((rc != 0)); then
		tail -n 20 "$out/build.log"
		return 1
	fi
	! grep -qE 'warning:|error:' "$out/build.log"
}

scripts=
case " $LINT_STEPS " in
*" kdoc "* | *" checkpatch "*)
	scripts=$(kernel_scripts) || { log "no checkpatch/kernel-doc available"; exit 1; }
	;;
esac

failed=0 steps=0
for s in $LINT_STEPS; do
	steps=$((steps + 1))
	t0=$SECONDS
	if "step_$s"; then
		log "$s: ok ($((SECONDS - t0)) s)"
	else
		log "$s: FAILED ($((SECONDS - t0)) s; log in build/lint/)"
		failed=$((failed + 1))
	fi
done
if ((failed)); then
	log "$failed of $steps steps failed"
	exit 1
fi
log "clean"
