#!/usr/bin/env bash
# Builds the C core and src_c/tests/random_check.c for the architectures this machine can
# emulate, and runs it: every kernel set of each architecture (generic + NEON on aarch64 under
# qemu-user; generic + AVX2 + AVX-512 natively on x86_64; the Win32 thread pool under wine when
# it is installed) against the reference kernels, at 1-3 threads, for conv2d and its gradients.
# No other runner checks the NEON kernels or the Windows threads.
#
# By hand, from the repository root:   tools/cross_check.sh [configs] [seed]
# Installs gcc-aarch64-linux-gnu and qemu-user (Debian/Ubuntu apt) when they are missing and
# CROSS_INSTALL is not 0; the Windows run needs gcc-mingw-w64-x86-64 and wine64 (not installed
# here: large), and is skipped without them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGS="${1:-150}"
SEED="${2:-11}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cconv-cross.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
SRC="$ROOT/src_c"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The baseline sources: the folders of setup.py's BASELINE_DIRS.
dirs_py='import ast
tree = ast.parse(open("setup.py").read())
print(" ".join(next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                    and getattr(n.targets[0], "id", "") == "BASELINE_DIRS")))'
baseline=()
for folder in $(cd "$ROOT" && python3 -c "$dirs_py"); do
    for src in "$SRC/$folder"/*.c; do [ -e "$src" ] && baseline+=("$src"); done
done

# build <compiler> <out> <extra flags...>: the core, the kernel sets given as NAME=FLAGS in
# $SETS, and random_check, warning-free.
build() {
    local cc=$1 out=$2
    shift 2
    local common=(-std=c99 -O2 -Wall -Wextra -Werror -I"$SRC/include" -I"$SRC" -I"$SRC/kernels")
    local objs=() defs=()
    for set in $SETS; do
        local isa=${set%%=*} flags=${set#*=}
        local upper
        upper=$(echo "$isa" | tr '[:lower:]' '[:upper:]')
        # shellcheck disable=SC2086
        "$cc" "${common[@]}" ${flags//,/ } -DCCONV_KERNEL_SET_"$upper"=1 "$@" \
            -c "$SRC/kernels/$isa/conv2d_$isa.c" -o "$WORK/$out-$isa.o"
        objs+=("$WORK/$out-$isa.o")
        defs+=(-DCCONV_HAVE_"$upper"=1)
    done
    "$cc" "${common[@]}" "${defs[@]}" "$@" "$SRC/tests/random_check.c" "${baseline[@]}" \
        "${objs[@]}" -lm -o "$WORK/$out"
}

echo "== x86_64, native"
SETS="avx2=-mavx2,-mfma avx512=-mavx512f,-mavx512cd,-mavx512bw,-mavx512dq,-mavx512vl,-mavx2,-mfma" \
    build gcc random_check_x86 -pthread
"$WORK/random_check_x86" "$CONFIGS" "$SEED"

echo "== aarch64 under qemu-user"
if ! command -v aarch64-linux-gnu-gcc > /dev/null || ! command -v qemu-aarch64 > /dev/null; then
    if [ "${CROSS_INSTALL:-1}" != 0 ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu \
            libc6-dev-arm64-cross qemu-user > /dev/null
    fi
fi
if command -v aarch64-linux-gnu-gcc > /dev/null && command -v qemu-aarch64 > /dev/null; then
    SETS="neon=" build aarch64-linux-gnu-gcc random_check_arm -pthread
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$WORK/random_check_arm" "$CONFIGS" "$SEED"
else
    echo "skipped: no aarch64 cross compiler or qemu-user"
fi

echo "== Windows (mingw-w64) under wine"
if command -v x86_64-w64-mingw32-gcc > /dev/null && [ -x /usr/lib/wine/wine64 ]; then
    SETS="avx2=-mavx2,-mfma avx512=-mavx512f,-mavx512cd,-mavx512bw,-mavx512dq,-mavx512vl,-mavx2,-mfma" \
        build x86_64-w64-mingw32-gcc random_check.exe
    WINEDEBUG=-all WINEPREFIX="$WORK/wine" /usr/lib/wine/wine64 "$WORK/random_check.exe" \
        "$CONFIGS" "$SEED" 2> /dev/null
else
    echo "skipped: needs gcc-mingw-w64-x86-64 and wine64"
fi
echo "== cross check passed"
