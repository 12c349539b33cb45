#!/usr/bin/env bash
# Builds cconv with AddressSanitizer + UndefinedBehaviorSanitizer and runs the whole test suite
# (bad-input matrix, properties, threads/memory included) under them.  Fails on any report.
#
# By hand, from the repository root (Linux, gcc; takes a few minutes):
#     tools/run_sanitizers.sh                 # everything in tests/
#     tools/run_sanitizers.sh -k bad_inputs   # extra arguments go to pytest
# Environment: PYTHON (default python3), SAN_WORKDIR (default: a fresh temporary folder, removed
# afterwards unless SAN_KEEP=1), CC (default gcc).
#
# How: the sources are copied to a scratch folder, built into a throwaway virtualenv with
# CFLAGS/LDFLAGS carrying -fsanitize=address,undefined, and pytest runs with gcc's libasan and
# libubsan preloaded (the Python interpreter itself is not instrumented, so the runtimes must be
# loaded first).  Leak detection is off because CPython keeps memory alive until exit on purpose;
# tests/test_threads_memory.py checks leaks itself, and its resident-memory tests are skipped here
# because ASan's quarantine keeps freed memory resident by design.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export CC="${CC:-gcc}"
WORK="${SAN_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/cconv-san.XXXXXX")}"
cleanup() { if [ "${SAN_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "== sanitizer build in $WORK"
mkdir -p "$WORK/src" "$WORK/logs"
# Only what git knows about (tracked or new, not ignored): no stale build products.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$WORK/src"

"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --upgrade pip
"$VPY" -m pip install -q "setuptools>=70" wheel "Cython>=3" numpy pytest hypothesis threadpoolctl

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
(cd "$WORK/src" &&
    CFLAGS="$SAN -g -O1" LDFLAGS="$SAN" "$VPY" -m pip install -q --no-build-isolation .)

LIBASAN="$("$CC" -print-file-name=libasan.so)"
LIBUBSAN="$("$CC" -print-file-name=libubsan.so)"
for lib in "$LIBASAN" "$LIBUBSAN"; do
    if [ ! -e "$lib" ]; then echo "missing sanitizer runtime: $lib" >&2; exit 2; fi
done
SO="$(find "$WORK/venv" -name '_core*.so' | head -n 1)"
if [ "$(nm -D "$SO" | grep -c __asan_)" = 0 ]; then   # (grep -q would SIGPIPE nm)
    echo "the extension at $SO was not built with ASan" >&2
    exit 2
fi

echo "== pytest under ASan + UBSan"
status=0
(
    cd "$WORK/src"
    export LD_PRELOAD="$LIBASAN $LIBUBSAN"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:log_path=$WORK/logs/asan"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$WORK/logs/ubsan"
    export PYTHONMALLOC=malloc        # Python objects on the instrumented malloc too
    export CCONV_UNDER_SANITIZER=1
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
    "$WORK/venv/bin/pytest" -q -p no:cacheprovider tests "$@"
) || status=$?

reports=$(find "$WORK/logs" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
    echo "== sanitizer reports:" >&2
    cat "$WORK"/logs/* >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "== FAILED (pytest status or sanitizer reports above)" >&2
    exit 1
fi
echo "== clean: no ASan or UBSan report"
