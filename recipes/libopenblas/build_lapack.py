"""LAPACK 3.12.1 as wasm objects for libopenblas.so, run in the build root (python3.14, f2c, emcc).

Which routines: what reference LAPACK's default build puts in liblapack (SRC/Makefile's lists; no
XBLAS extra-precise routines, no DEPRECATED/), less XERBLA and LSAME (OpenBLAS's) and the INSTALL
routines written in C (lapack_install.c). Reference LAPACK is Fortran and flang has no wasm32 target,
so each file goes through forge-f77's route (forge/helpers/fortran.py's translate(): f2c, its C fixed
to gfortran's ABI), then emcc with Pyodide's flags. What f2c cannot read (Fortran 90) comes from a
small mechanical rewrite of the Fortran (REWRITES), else from libflame 5.2.0's f2c translation of
LAPACK 3.5.0 (the same routine one release line earlier, with the same argument list), else it is
left out together with every routine that calls it (OUT/omitted.txt says which and why).

One ABI for the whole library, the one C callers of LAPACK use (scipy's f2py wrappers and
cython_lapack, numpy's umath_linalg, OpenBLAS's own BLAS interface): subroutines return void,
one trailing underscore, and no hidden length argument for a CHARACTER*1 argument (f2c appends
one per CHARACTER argument, as gfortran does; wasm checks a call's arity, so `dgesdd_(jobz, ..., info)`
from C would not link against a definition with a 15th parameter). The hidden lengths of
CHARACTER*(*) arguments stay (XERBLA, ILAENV, IPARMQ, ...: the routine reads them; OpenBLAS's
xerbla_ takes one too). They are dropped by one generated header of function-like macros,
`#define dgetrs_(a0, ..., a8, l0) dgetrs_(a0, ..., a8)`, which rewrites f2c's definitions,
prototypes and calls alike; an arity f2c did not expect is a preprocessor error, not a trap.
libflame's files (no hidden lengths at all, subroutines returning int) get void subroutines and
the lengths of XERBLA's and ILAENV's arguments (adapt_flame).

    python3.14 build_lapack.py --lapack DIR --flame DIR --f77 DIR [--extra-c FILE.c] --out DIR [-j N]

--flame is libflame's src/map/lapack2flamec/f2c, --f77 the directory `forge-f77 --launcher` wrote.
Writes OUT/obj/*.o, OUT/objects.txt, OUT/omitted.txt (routine<TAB>reason) and OUT/summary.txt.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: routines whose hidden CHARACTER lengths stay: a CHARACTER*(*) argument (the callee reads the length)
KEEP_LENGTHS = {"xerbla_", "ilaenv_", "ilaenv2stage_", "iparmq_", "iparam2stage_", "lsamen_"}
#: what reference LAPACK's default build puts in liblapack (SRC/Makefile's ALLOBJ: no XBLAS extra-precise
#: routines, no DEPRECATED/); the same lists as CMake's default (USE_XBLAS and BUILD_DEPRECATED off)
MAKE_LISTS = ("ALLAUX", "SCLAUX", "DZLAUX", "SLASRC", "DSLASRC", "CLASRC", "ZCLASRC", "DLASRC", "ZLASRC")
#: of those, provided by OpenBLAS (driver/others/xerbla.c, kernel/generic/lsame.c)
FROM_OPENBLAS = {"xerbla", "lsame"}
#: of those, in lapack_install.c (Fortran 90 intrinsics; the timers)
IN_C = {"slamch", "dlamch", "sroundup_lwork", "droundup_lwork", "second_$(TIMER)", "dsecnd_$(TIMER)"}
#: of those, Fortran 90 modules, used only by the .f90 routines taken from libflame instead
MODULES = {"la_constants", "la_xisnan"}
#: CEILING(REAL(a)/REAL(b)) of two integers a >= 0, b > 0 (checked or constant where LAPACK uses it):
#: Fortran 90's CEILING as Fortran 77's integer division
_CEILING = re.compile(r"CEILING\(\s*(?:DBLE|REAL)\(([^()]*)\)\s*/\s*(?:DBLE|REAL)\(([^()]*)\)\s*\)", re.I)
_CEILING_INTRINSIC = re.compile(r"(INTRINSIC\s.*?)(?:CEILING,\s*|,\s*CEILING\b)", re.I)


def _ceiling(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        a, b = (re.sub(r"\s+", "", g) for g in m.groups())
        return f"(({a})+({b})-1)/({b})"
    return _CEILING_INTRINSIC.sub(r"\1", _CEILING.sub(repl, text))


def _sub_once(pattern: str, repl: str, text: str) -> str:
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n != 1:
        raise ValueError(f"expected one {pattern!r}, found {n}")
    return text


def _bulge_chasing(text: str) -> str:
    """?sytrd_sb2st/?hetrd_hb2st: CEILING (N >= 1, KD >= 2 there) and Fortran 90's EXIT in the bulge
    chasing loop nest DO 100 > 110 > 120 > 130 > 140: leaving loop 110 continues loop 100, leaving
    loop 140 continues loop 130 (each loop ends on its own CONTINUE)."""
    text = _sub_once(r"IF\( STT\.GT\.ED \) EXIT$", "IF( STT.GT.ED ) GO TO 100", _ceiling(text))
    return _sub_once(r"^(\s+)EXIT$", r"\1GO TO 130", text)


#: mechanical rewrites that make a Fortran 90 file Fortran 77 (file stem -> edit of its text)
REWRITES = {
    **{f"{p}getsqrhrt": _ceiling for p in "sdcz"},  # MB1 > N was checked above
    **{f"{p}{r}_{b}2st": _bulge_chasing for p, r, b in (("s", "sytrd", "sb"), ("d", "sytrd", "sb"),
                                                        ("c", "hetrd", "hb"), ("z", "hetrd", "hb"))},
    "xerbla_array": lambda text: re.sub(r"CHARACTER\(1\)", "CHARACTER*1", text, flags=re.I),  # F90 spelling
}
F2C_EXTRA = ["-Nx400", "-Ns400"]  # room for LAPACK's largest files (f2c's internal tables)
CFLAGS_EXTRA = ["-DINTEGER_STAR_8", "-Dlongit=longint", "-Wno-parentheses", "-Wno-unused-label",
                "-Wno-dangling-else", "-Wno-deprecated-non-prototype", "-Wno-unused-variable",
                "-Wno-unused-but-set-variable", "-Wno-unused-function", "-Wno-logical-op-parentheses",
                "-Wno-shift-op-parentheses", "-Wno-bitwise-op-parentheses", "-Wno-pointer-sign",
                "-Wno-implicit-int"]
_DEF = re.compile(r"^(?:/\* Subroutine \*/ void|/\* Complex \*/ VOID|/\* Double Complex \*/ VOID|/\* Character \*/ VOID|"
                  r"void|VOID|int|integer|logical|doublereal|real|shortint|shortlogical)\s+(\w+_)\(([^)]*)\)\s*\{",
                  re.M)
_CALL = re.compile(r"(?<![\w.>])([a-z][a-z0-9_]*_)\s*\(")


# -- f2c --------------------------------------------------------------------------------------------

def rewrite(src: Path, dest: Path) -> Path:
    """`src` with its mechanical rewrite applied; a statement still ends before column 73."""
    text = REWRITES[src.stem](src.read_text(encoding="latin-1"))
    long = [ln for ln in text.splitlines() if len(ln) > 72 and ln[:1] not in "cC*!"]
    if long:
        raise ValueError(f"the rewrite of {src.name} runs past column 72: {long[0]!r}")
    dest.write_text(text, encoding="latin-1")
    return dest


def translate_one(args: tuple[str, str, str, str]) -> tuple[str, str | None, str]:
    """(stem, C file in DEST or None, f2c's messages) for one Fortran file."""
    f77_dir, src, work, dest = args
    sys.path.insert(0, f77_dir)
    import forge_f77  # noqa: PLC0415  (forge/helpers/fortran.py, copied by forge-f77 --launcher)

    src_path, tmp = Path(src), Path(work)
    if src_path.stem in REWRITES:
        tmp.mkdir(parents=True, exist_ok=True)
        src_path = rewrite(src_path, tmp / f"{src_path.stem}.rewritten{src_path.suffix}")
    opts = forge_f77.Options()
    opts.f2c += F2C_EXTRA
    stem = Path(src).stem
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            c_path = forge_f77.translate(src_path, opts, tmp)
    except forge_f77.F77Error as exc:
        return stem, None, err.getvalue() + str(exc)
    out = Path(dest) / f"{stem}.c"
    shutil.copyfile(c_path, out)
    shutil.rmtree(tmp, ignore_errors=True)
    return stem, str(out), err.getvalue()


# -- libflame's LAPACK 3.5.0 translations ------------------------------------------------------------

_FLAME_PRELUDE = """/* forge: libflame's f2c translation of LAPACK 3.5.0, adapted to this library's ABI */
#include "f2c.h"
#include <string.h>
typedef void (*forge_S_fp)();
#define S_fp forge_S_fp
#define U_fp forge_S_fp
#define f2c_abs(x) abs(x)
#define f2c_dabs(x) dabs(x)
#define f2c_min(a, b) min(a, b)
#define f2c_max(a, b) max(a, b)
"""


def split_args(text: str, start: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose '(' is at text[start], and the index after ')'."""
    depth, args, cur, i, quote = 0, [], [], start, None
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == "\\":
                cur.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch == "(":
            depth += 1
            if depth > 1:
                cur.append(ch)
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
            cur.append(ch)
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    raise ValueError("unbalanced call")


def _length_of(arg: str) -> str:
    """The hidden length f2c passes for a character actual argument: a literal's length, else 1
    (libflame's calls pass CHARACTER*1 variables or literals)."""
    return f"(ftnlen){len(arg) - 2}" if arg.startswith('"') and arg.endswith('"') else "(ftnlen)1"


def add_lengths(text: str, name: str, char_positions: tuple[int, ...]) -> str:
    """Calls of `name` (not declarations) get the hidden lengths of their character arguments."""
    out, pos = [], 0
    for m in re.finditer(rf"(?<![\w*]){re.escape(name)}\s*\(", text):
        if m.start() < pos:
            continue
        args, end = split_args(text, m.end() - 1)
        if any(a.startswith(("char *", "integer *", "char*")) for a in args):  # a prototype
            continue
        lengths = [_length_of(args[i]) for i in char_positions]
        out.append(text[pos:m.start()] + f"{name}({', '.join(args + lengths)})")
        pos = end
    return "".join(out) + text[pos:]


def body_end(text: str, i: int) -> int:
    """The index after the '}' closing the body opened just before text[i] (comments and
    literals skipped)."""
    depth = 1
    while depth:
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        ch = text[i]
        if ch in "\"'":
            j = i + 1
            while text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        i += 1
    return i


def adapt_flame(text: str) -> str:
    """libflame's C (subroutines returning int, no hidden lengths at all) in this library's ABI:
    subroutines return void; XERBLA and ILAENV get the lengths of their CHARACTER*(*) arguments."""
    text = text.replace('#include "FLA_f2c.h"', _FLAME_PRELUDE, 1)
    text = re.sub(r"/\* Subroutine \*/\s*int\s+", "/* Subroutine */ void ", text)
    # `return 0;` in subroutine bodies only (functions return ret_val)
    out, pos = [], 0
    for m in re.finditer(r"^/\* Subroutine \*/ void (\w+)\([^)]*\)\s*\{", text, re.M):
        end = body_end(text, m.end())
        out.append(text[pos:m.end()] + text[m.end():end].replace("return 0;", "return;"))
        pos = end
    text = "".join(out) + text[pos:]
    text = re.sub(r"\bxerbla_\(char \*, integer \*\)", "xerbla_(char *, integer *, ftnlen)", text)
    text = re.sub(r"\b(ilaenv_\(integer \*, char \*, char \*, integer \*, integer \*, integer \*, integer \*)\)",
                  r"\1, ftnlen, ftnlen)", text)
    text = add_lengths(text, "xerbla_", (0,))
    return add_lengths(text, "ilaenv_", (1, 2))


# -- signatures and the length-dropping macros -----------------------------------------------------

def definitions(text: str) -> dict[str, list[str]]:
    """name -> parameter list of every function the C file defines."""
    return {m.group(1): [p.strip() for p in m.group(2).split(",") if p.strip()] for m in _DEF.finditer(text)}


def length_macro(name: str, params: list[str], flame: bool) -> str | None:
    """`#define name(a1.., l1..) name(a1..)` dropping the hidden lengths f2c's callers pass for
    CHARACTER*1 arguments (libflame's definitions have none: one per `char *` parameter)."""
    if name in KEEP_LENGTHS:
        return None
    if flame:
        n, k = len(params), sum(p.startswith("char *") or p.startswith("char*") for p in params)
    else:
        k = 0
        while k < len(params) and params[len(params) - 1 - k].startswith("ftnlen"):
            k += 1
        n = len(params) - k
        if params and params[0].startswith("char *ret_val"):  # a CHARACTER function: its length is not hidden
            return None
    if k == 0:
        return None
    a = [f"a{i}" for i in range(n)]
    lens = [f"l{i}" for i in range(k)]
    return f"#define {name}({', '.join(a + lens)}) {name}({', '.join(a)})"


# -- compiling ---------------------------------------------------------------------------------------

def compile_batch(args: tuple[list[str], str, list[str]]) -> tuple[list[str], str]:
    """emcc -c on several C files at once (one driver start for many files); on failure, each alone."""
    files, objdir, cflags = args
    res = subprocess.run(["emcc", *cflags, "-c", *files], cwd=objdir, capture_output=True, text=True)
    if res.returncode == 0:
        return [], res.stderr
    failed, msgs = [], []
    for f in files:
        one = subprocess.run(["emcc", *cflags, "-c", f], cwd=objdir, capture_output=True, text=True)
        if one.returncode != 0:
            failed.append(f)
            msgs.append(one.stderr)
    return failed, "\n".join(msgs)


def makefile_objects(makefile: Path) -> list[str]:
    """The object paths (relative to SRC, without .o) of MAKE_LISTS in reference LAPACK's SRC/Makefile."""
    text = makefile.read_text().replace("\\\n", " ")
    lists = {m.group(1): m.group(2).split() for m in re.finditer(r"^(\w+)\s*=(.*)$", text, re.M)}
    return sorted({o[:-2] for name in MAKE_LISTS for o in lists[name] if o.endswith(".o")})


def source_of(lapack: Path, obj: str) -> Path | None:
    """SRC/<obj>.f (or .F, .f90, .F90)."""
    for suffix in (".f", ".F", ".f90", ".F90"):
        path = lapack / "SRC" / f"{obj}{suffix}"
        if path.exists():
            return path.resolve()
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lapack", required=True, type=Path)
    ap.add_argument("--flame", required=True, type=Path, help="libflame's src/map/lapack2flamec/f2c")
    ap.add_argument("--f77", required=True, help="the directory forge-f77 --launcher wrote")
    ap.add_argument("--extra-c", action="append", default=[], type=Path, help="C files compiled as they are")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--batch", type=int, default=24)
    a = ap.parse_args()
    out = a.out.resolve()
    for d in ("c", "sig", "tr", "obj", "inc"):
        shutil.rmtree(out / d, ignore_errors=True)
        (out / d).mkdir(parents=True)
    shutil.copyfile("/usr/include/f2c.h", out / "inc" / "f2c.h")
    omitted: dict[str, str] = {}

    objects = [o for o in makefile_objects(a.lapack / "SRC" / "Makefile")
               if Path(o).name not in FROM_OPENBLAS | IN_C | MODULES]
    sources = {Path(o).name: source_of(a.lapack, o) for o in objects}
    unknown = sorted(n for n, s in sources.items() if s is None)
    if unknown:
        print(f"SRC/Makefile names objects with no source: {' '.join(unknown)}", file=sys.stderr)
        return 1
    fortran = sorted(s for s in sources.values() if s and s.suffix in (".f", ".F"))
    free = sorted(s.stem for s in sources.values() if s and s.suffix in (".f90", ".F90"))
    # 1. f2c (forge-f77's translate: Fortran 77 dialect fixes, gfortran's ABI)
    jobs = [(a.f77, str(f), str(out / "tr" / f.stem), str(out / "c")) for f in fortran]
    sig_jobs = [(a.f77, str(f), str(out / "tr" / f"blas-{f.stem}"), str(out / "sig"))
                for f in sorted((a.lapack / "BLAS" / "SRC").glob("*.f"))]
    c_files: dict[str, Path] = {}
    failed: dict[str, str] = {}
    with ProcessPoolExecutor(a.j) as pool:
        for stem, c_path, msg in pool.map(translate_one, jobs, chunksize=16):
            if c_path:
                c_files[stem] = Path(c_path)
            else:
                failed[stem] = msg
        blas_sigs: dict[str, list[str]] = {}
        for stem, c_path, msg in pool.map(translate_one, sig_jobs, chunksize=16):
            if c_path:  # BLAS/SRC: only for the signatures of OpenBLAS's routines (compiled by OpenBLAS)
                blas_sigs.update(definitions(Path(c_path).read_text(encoding="latin-1")))
                Path(c_path).unlink()
    print(f"f2c: {len(c_files)} of {len(fortran)} LAPACK files translated; {len(failed)} not", flush=True)

    # 2. what f2c could not read: libflame's 3.5.0 translation, else omitted
    flame_c = a.flame / "c"
    flame_used: list[str] = []
    for stem in sorted(failed) + free:
        if (flame_c / f"{stem}.c").exists():
            text = adapt_flame((flame_c / f"{stem}.c").read_text(encoding="latin-1"))
            (out / "c" / f"{stem}.c").write_text(text, encoding="latin-1")
            c_files[stem] = out / "c" / f"{stem}.c"
            flame_used.append(stem)
        else:
            why = "Fortran 90 (f2c cannot translate it; no LAPACK 3.5.0 translation in libflame)"
            first = next((ln for ln in failed.get(stem, "").splitlines() if ln.startswith("Error")), "")
            omitted[stem + "_"] = why + (f": {first}" if first else "")
    if any("maxloc_" in c_files[s].read_text(encoding="latin-1") for s in flame_used):
        # libflame's stand-in for Fortran 90's MAXLOC (its ?pstf2/?pstrf call smaxloc_/dmaxloc_)
        text = adapt_flame((a.flame / "install" / "static" / "maxloc.c").read_text(encoding="latin-1"))
        (out / "c" / "maxloc.c").write_text(text, encoding="latin-1")
        c_files["maxloc"] = out / "c" / "maxloc.c"
        flame_used.append("maxloc")
    print(f"libflame 3.5.0 translations used: {len(flame_used)}: {' '.join(flame_used)}", flush=True)

    # 3. drop every routine that calls an omitted one (transitively)
    defs = {stem: definitions(p.read_text(encoding="latin-1")) for stem, p in c_files.items()}
    calls = {stem: set(_CALL.findall(re.sub(r"/\*.*?\*/", "", p.read_text(encoding="latin-1"), flags=re.S)))
             for stem, p in c_files.items()}
    missing = {n for n in omitted if n.endswith("_")}
    changed = True
    while changed:
        changed = False
        for stem in sorted(c_files):
            hit = sorted(calls[stem] & missing)
            if hit:
                for name in defs[stem] or {stem + "_": []}:
                    omitted[name] = f"calls {', '.join(hit)}"
                    missing.add(name)
                del c_files[stem]
                changed = True

    # 4. the length-dropping macros: LAPACK's own routines, libflame's, and OpenBLAS's BLAS
    by_name: dict[str, str] = {}
    for name, params in sorted(blas_sigs.items()):
        m = length_macro(name, params, flame=False)
        if m:
            by_name[name] = m
    for stem in sorted(c_files):
        for name, params in defs[stem].items():
            m = length_macro(name, params, flame=stem in flame_used)
            if m:
                by_name[name] = m
    for extra_c in a.extra_c:
        for name, params in definitions(extra_c.read_text(encoding="latin-1")).items():
            m = length_macro(name, params, flame=True)
            if m:
                by_name[name] = m
    macros = [by_name[n] for n in sorted(by_name)]
    header = out / "inc" / "forge_lapack_abi.h"
    header.write_text("/* generated by build_lapack.py: drop the hidden lengths of CHARACTER*1 arguments */\n"
                      + "\n".join(macros) + "\n")
    # a definition whose dropped length its body reads would not compile: checked by the compiler

    # 5. compile
    cflags_env = os.environ.get("CFLAGS", "-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP=wasm").split()
    base = [*cflags_env, f"-I{out / 'inc'}", *CFLAGS_EXTRA]
    f2c_flags = [*base, "-include", str(header)]
    translated = sorted(str(p) for s, p in c_files.items() if s not in flame_used)
    flame = sorted(str(p) for s, p in c_files.items() if s in flame_used)
    extra = [str(p.resolve()) for p in a.extra_c]
    batches = [(translated[i:i + a.batch], str(out / "obj"), f2c_flags) for i in range(0, len(translated), a.batch)]
    batches += [(flame[i:i + a.batch], str(out / "obj"), base) for i in range(0, len(flame), a.batch)]
    batches += [(extra, str(out / "obj"), base)] if extra else []
    bad: list[str] = []
    with ProcessPoolExecutor(a.j) as pool:
        for i, (failed_files, msg) in enumerate(pool.map(compile_batch, batches)):
            if failed_files or "warning" in msg:
                sys.stderr.write(msg)
            bad += failed_files
            if i % 10 == 0:
                print(f"compiled {min((i + 1) * a.batch, len(translated) + len(flame))} files", flush=True)
    if bad:
        print(f"emcc failed on {len(bad)} files: {' '.join(Path(b).name for b in bad)}", file=sys.stderr)
        return 1
    objs = sorted((out / "obj").glob("*.o"))
    (out / "objects.txt").write_text("".join(f"{o}\n" for o in objs))
    (out / "omitted.txt").write_text("".join(f"{n}\t{why}\n" for n, why in sorted(omitted.items())))
    summary = (f"LAPACK 3.12.1 (SRC/Makefile's {len(objects)} objects less OpenBLAS's xerbla/lsame): "
               f"{len(translated)} files through f2c, {len(flame)} from libflame's LAPACK 3.5.0 "
               f"({' '.join(sorted(flame_used))}), {len(extra)} C; {len(omitted)} routines omitted; "
               f"{len(macros)} length-dropping macros; {len(objs)} objects")
    (out / "summary.txt").write_text(summary + "\n")
    print(summary)
    for n, why in sorted(omitted.items()):
        print(f"  omitted {n}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
