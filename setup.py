"""Build of the cconv extension: what must be code rather than pyproject.toml metadata.

* Every C file is compiled with the platform baseline flags, except the kernels of each
  instruction set (src_c/kernels/<isa>/), which get that instruction set's flags and nothing else.
  The CPU is checked at run time before any of them executes, so a wheel runs on any CPU of its
  platform.  Never -march=native.
* Threads come from cconv's own pool (src_c/thread_pool.c) on POSIX threads, or Win32 threads with
  MSVC: no OpenMP, so no runtime library to bundle and nothing that breaks across fork.
"""

import os
import platform
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SRC = "src_c"

# Per-instruction-set compile flags: (gcc/clang, MSVC).  Only sets for the target architecture are
# built.
ISA_FLAGS = {
    "x86": {
        "avx2": (["-mavx2", "-mfma"], ["/arch:AVX2"]),
        "avx512": (
            ["-mavx512f", "-mavx512cd", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"],
            ["/arch:AVX512"],
        ),
    },
    "arm64": {
        "neon": ([], []),  # NEON is baseline on aarch64
    },
}


def target_arch():
    """The architecture the extension is being built for (honours macOS ARCHFLAGS)."""
    archflags = os.environ.get("ARCHFLAGS", "")
    machine = platform.machine().lower()
    if "-arch arm64" in archflags:
        machine = "arm64"
    elif "-arch x86_64" in archflags:
        machine = "x86_64"
    if machine in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "x86"
    if machine in ("arm64", "aarch64"):
        return "arm64"
    return "other"


def is_msvc(compiler):
    return compiler.compiler_type == "msvc"


def thread_flags(compiler):
    """(compile flags, link flags) for the thread pool: POSIX threads, or nothing with MSVC (the
    pool then uses Win32 threads, which need no flag)."""
    if is_msvc(compiler):
        return [], []
    return ["-pthread"], ["-pthread"]


class BuildExtWithKernelFlags(build_ext):
    """Compiles each instruction set's kernels with that set's own flags, then the rest."""

    def build_extension(self, ext):
        compiler = self.compiler
        msvc = is_msvc(compiler)
        base = ["/O2"] if msvc else ["-O3", "-std=c99", "-fno-math-errno", "-Wall", "-Wextra"]
        threads_c, threads_l = thread_flags(compiler)
        ext.extra_compile_args = base + threads_c
        ext.extra_link_args = list(threads_l)
        ext.define_macros = list(ext.define_macros or [])
        include_dirs = [os.path.join(SRC, "include"), SRC, os.path.join(SRC, "kernels")]

        arch = target_arch()
        extra_objects = []
        for isa, (gnu_flags, msvc_flags) in ISA_FLAGS.get(arch, {}).items():
            sources = sorted(glob(os.path.join(SRC, "kernels", isa, "*.c")))
            if not sources:
                continue
            flags = base + (msvc_flags if msvc else gnu_flags)
            extra_objects += compiler.compile(
                sources,
                output_dir=self.build_temp,
                include_dirs=include_dirs,
                macros=[("CCONV_KERNEL_SET_" + isa.upper(), "1")],
                extra_postargs=flags,
                debug=self.debug,
            )
            ext.define_macros.append(("CCONV_HAVE_" + isa.upper(), "1"))
        ext.extra_objects = extra_objects
        ext.include_dirs = include_dirs + list(ext.include_dirs or [])
        self.announce(
            f"cconv: arch={arch} "
            f"kernel sets={[os.path.basename(os.path.dirname(o)) for o in extra_objects]}",
            level=2,
        )
        super().build_extension(ext)


# The core: every .c file under src_c/ built with the baseline flags (runtime/, each operation's
# folder, ref/, kernels/generic/), but not the other kernel sets (built above with their own
# flags) nor src_c/tests/ (stand-alone check programs).
BASELINE_DIRS = ("runtime", "conv", "pool", "ref", "kernels/generic")
core_sources = ["cconv/_core.pyx"] + sorted(
    path for folder in BASELINE_DIRS
    for path in glob(os.path.join(SRC, *folder.split("/"), "*.c")))

setup(
    ext_modules=[Extension("cconv._core", sources=core_sources)],
    cmdclass={"build_ext": BuildExtWithKernelFlags},
)
