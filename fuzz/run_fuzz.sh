#!/usr/bin/env bash
# Builds fuzz/fuzz_conv2d.c against the C core with libFuzzer + ASan + UBSan (clang) and runs it
# for a fixed time on the corpus in fuzz/corpus/; then the same for the pooling target
# fuzz/fuzz_pool2d.c on fuzz/corpus-pool2d/.  Fails on any crash, sanitizer report, leak or
# fast-vs-reference mismatch (the target aborts).
#
# By hand, from the repository root:
#     fuzz/run_fuzz.sh                    # 60 s
#     FUZZ_SECONDS=600 fuzz/run_fuzz.sh   # longer
# Environment: FUZZ_SECONDS (default 60), FUZZ_SEED (libFuzzer's -seed; unset: a new random seed
# each run, which is how to explore; CI sets 1 so that its verdict is the same on every run of
# the same commit), FUZZ_WORKDIR (build folder, default a temporary one),
# FUZZ_NEW_CORPUS (a folder to collect new interesting inputs in; by default they are thrown
# away so the repository's corpus stays small - merge by hand with -merge=1 when worth it).
# Installs clang (Debian/Ubuntu apt) when it is missing; libFuzzer comes with Debian's clang
# (libclang-rt-<version>-dev).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_TO_RUN="${FUZZ_SECONDS:-60}"
SEED_ARGS=()
if [ -n "${FUZZ_SEED:-}" ]; then SEED_ARGS=(-seed="$FUZZ_SEED"); fi
WORK="${FUZZ_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/cconv-fuzz.XXXXXX")}"
mkdir -p "$WORK"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
probe='#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }'
has_libfuzzer() {
    echo "$probe" > "$WORK/probe.c"
    clang -fsanitize=fuzzer "$WORK/probe.c" -o "$WORK/probe" >/dev/null 2>&1
}
if ! command -v clang >/dev/null 2>&1; then
    echo "== installing clang"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi
if ! has_libfuzzer; then
    version="$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)"
    echo "== installing libFuzzer (libclang-rt-$version-dev)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libclang-rt-$version-dev" \
        >/dev/null
    has_libfuzzer || { echo "clang cannot link -fsanitize=fuzzer" >&2; exit 2; }
fi

# The same split as setup.py: each instruction set's kernels get that set's flags only, and
# CCONV_HAVE_<ISA> is defined for the rest.  Flags are read from setup.py's ISA_FLAGS.
SRC="$ROOT/src_c"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
COMMON="-std=c99 -O1 -g -I$SRC/include -I$SRC -I$SRC/kernels"
isa_flags="$(cd "$ROOT" && python3 - <<'EOF'
import ast, platform
tree = ast.parse(open("setup.py").read())
flags = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
             and getattr(n.targets[0], "id", "") == "ISA_FLAGS")
arch = {"x86_64": "x86", "amd64": "x86", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), "other")
for isa, (gnu, _msvc) in flags.get(arch, {}).items():
    print(isa, " ".join(gnu))
EOF
)"
objects=()
defines=()
while read -r isa flags; do
    [ -n "$isa" ] || continue
    sources=("$SRC"/kernels/"$isa"/*.c)
    [ -e "${sources[0]}" ] || continue
    upper="$(echo "$isa" | tr '[:lower:]' '[:upper:]')"
    for src in "${sources[@]}"; do
        obj="$WORK/$isa-$(basename "$src" .c).o"
        # shellcheck disable=SC2086
        clang $COMMON ${SAN/fuzzer,/fuzzer-no-link,} $flags -DCCONV_KERNEL_SET_"$upper"=1 \
            -c "$src" -o "$obj"
        objects+=("$obj")
    done
    defines+=("-DCCONV_HAVE_$upper=1")
done <<< "$isa_flags"

echo "== building the fuzz target (kernel sets: generic ${defines[*]:-})"
# shellcheck disable=SC2086
# The baseline sources: the folders of setup.py's BASELINE_DIRS.
baseline=()
dirs_py='import ast
tree = ast.parse(open("setup.py").read())
print(" ".join(next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                    and getattr(n.targets[0], "id", "") == "BASELINE_DIRS")))'
for folder in $(cd "$ROOT" && python3 -c "$dirs_py"); do
    for src in "$SRC/$folder"/*.c; do [ -e "$src" ] && baseline+=("$src"); done
done
clang $COMMON $SAN -pthread "${defines[@]}" "$ROOT/fuzz/fuzz_conv2d.c" "${baseline[@]}" \
    "${objects[@]}" -lm -o "$WORK/fuzz_conv2d"

NEW="${FUZZ_NEW_CORPUS:-$WORK/new-corpus}"
mkdir -p "$NEW"
echo "== fuzzing for ${SECONDS_TO_RUN} s${FUZZ_SEED:+ from seed $FUZZ_SEED}"
# The repository corpus is read-only input; new finds go to $NEW.  Leak checking stays on: the
# C core must free everything on every path.
status=0
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
"$WORK/fuzz_conv2d" "$NEW" "$ROOT/fuzz/corpus" -max_total_time="$SECONDS_TO_RUN" \
    ${SEED_ARGS[@]+"${SEED_ARGS[@]}"} \
    -max_len=512 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$WORK/" > "$WORK/fuzz.log" 2>&1 || status=$?
grep -vE "^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)" "$WORK/fuzz.log" | tail -n 60
if [ "$status" -ne 0 ] ||
        grep -qE "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error" "$WORK/fuzz.log"
then
    echo "== FAILED: crash artifacts in $WORK (reproduce: $WORK/fuzz_conv2d <artifact>)" >&2
    exit 1
fi
grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$WORK/fuzz.log" || true

# The pooling entry points: their own target (fuzz/fuzz_pool2d.c) and corpus, for the same time.
clang $COMMON $SAN -pthread "${defines[@]}" "$ROOT/fuzz/fuzz_pool2d.c" "${baseline[@]}" \
    "${objects[@]}" -lm -o "$WORK/fuzz_pool2d"
mkdir -p "$NEW/pool2d"
echo "== fuzzing pooling for ${SECONDS_TO_RUN} s"
status=0
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
"$WORK/fuzz_pool2d" "$NEW/pool2d" "$ROOT/fuzz/corpus-pool2d" -max_total_time="$SECONDS_TO_RUN" \
    ${SEED_ARGS[@]+"${SEED_ARGS[@]}"} \
    -max_len=1024 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$WORK/pool2d-" > "$WORK/fuzz-pool2d.log" 2>&1 || status=$?
grep -vE "^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)" "$WORK/fuzz-pool2d.log" | tail -n 30
if [ "$status" -ne 0 ] ||
        grep -qE "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error" \
            "$WORK/fuzz-pool2d.log"
then
    echo "== FAILED: crash artifacts in $WORK (reproduce: $WORK/fuzz_pool2d <artifact>)" >&2
    exit 1
fi
grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$WORK/fuzz-pool2d.log" || true
echo "== clean"
