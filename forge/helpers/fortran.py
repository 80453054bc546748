"""`forge-f77`: Fortran 77 for emscripten-wasm32 with gfortran's command line. flang has no wasm32
target and lfortran cannot emit emscripten objects (docs/languages.md), so each source goes through
f2c (Fortran 77 to C) and emcc compiles the C with Pyodide's flags (forge.toolchain.target).

- gfortran's ABI, which C callers (scipy's wrappers) and wasm-ld's signature checks expect:
  subroutines return void (f2c makes them return int), also through dummy procedures (S_fp);
  one trailing underscore (f2c adds two to names holding one); REAL functions return float
  (f2c -R); locals are automatic (f2c -a) and a backslash is a plain character (f2c -!bs);
- it answers to build systems as GNU Fortran (`--version`, `-E -dM`, `-print-search-dirs`): meson
  knows no f2c, and as gfortran it gets the flags projects write for gfortran (scipy's
  `get_id() == 'gcc'`), which are accepted and have no effect (-std=legacy, -Wno-*, -J, ...);
- links make side modules (this target has no executables) with the f2c runtime (-lf2c, the
  libf2c recipe: a static archive; meson's -lgfortran finds its libgfortran.a alias);
- free-form input (.f90, meson's probes) is rewritten to fixed form first (`;`, `&`, `!`,
  `end program`); anything beyond Fortran 77 is f2c's error.

It runs where f2c and emcc are, the build root. Started on the host, it runs there itself; in the
root it is a copy of this file (`forge-f77 --launcher DIR` writes DIR/forge-f77), since the forge
is not installed inside. Standard library only, for that reason.

    forge-f77 [-c] [-o OUT] [-O2] [-g] [-fPIC] [-I DIR] [-D X[=V]] [-cpp] [-ffree-form] ... FILES
    forge-f77 --version | -dumpversion | -print-search-dirs | -E -dM -
    forge-f77 --launcher DIR        (the host: write DIR/forge-f77 for commands run in the build root)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: -a automatic locals (gfortran's default), -R REAL functions return float (gfortran's ABI),
#: -!bs backslash is not an escape (gfortran's -fno-backslash), -Nn802 room for large files
F2C_FLAGS = ("-A", "-a", "-R", "-!bs", "-Nn802")
F2C_HEADER = "/usr/include/f2c.h"  # the build root's libf2c2-dev: int32_t INTEGER and ftnlen
FIXED = (".f", ".for", ".ftn", ".f77")
FREE = (".f90", ".f95", ".f03", ".f08")
PREPROCESSED = (".F", ".FOR", ".FTN", ".F77", ".fpp", ".FPP", ".F90", ".F95", ".F03", ".F08")
GNU_VERSION = "4.2.1"  # clang's __GNUC__ triple, which `-E -dM` reports too
#: gfortran options whose value is the next argument when not attached (-I dir, -o out, ...)
WITH_VALUE = {"-o", "-I", "-D", "-U", "-J", "-x", "-L", "-l", "-MF", "-MT", "-MQ", "-include", "-Xlinker",
              "-module"}
#: gfortran's spellings of what f2c can do: (f2c flag to add, f2c flag to drop)
F2C_MAP = {"-fimplicit-none": ("-u", None), "-fdefault-real-8": ("-r8", None), "-fno-automatic": (None, "-a"),
           "-fbackslash": (None, "-!bs"), "-w": ("-w", None)}
#: what f2c cannot do: refused, so meson's has_argument probes report it unsupported
UNSUPPORTED = ("-fdefault-integer-8", "-i8", "-fopenmp")
#: clang warnings about f2c's style, not about the Fortran (K&R calls through dummy procedures, ...)
C_QUIET = ("-Wno-parentheses", "-Wno-unused-label", "-Wno-dangling-else", "-Wno-deprecated-non-prototype")
#: INTEGER*8: Debian's f2c.h declares it only under INTEGER_STAR_8, misspelt `longit`
F2C_H_FIX = ("-DINTEGER_STAR_8", "-Dlongit=longint")
#: ELF linker options wasm-ld rejects (or emcc ignores, with a warning), which meson adds for a GNU-like linker
ELF_ONLY = ("-Wl,--as-needed", "-Wl,--no-as-needed", "-Wl,--no-undefined", "-Wl,--allow-shlib-undefined")
#: directories the build root has of its own: never bound over from the host
SYSTEM_DIRS = ("/usr", "/etc", "/lib", "/bin", "/sbin", "/var", "/opt/forge", "/proc", "/sys", "/dev")


class F77Error(Exception):
    """One sentence for the user; exit status 1."""


@dataclass
class Options:
    """One command line, sorted into what f2c, the preprocessor and emcc each need."""

    mode: str = "link"  # version | dumpversion | search-dirs | help | launcher | preprocess | compile | link
    output: str | None = None
    sources: list[str] = field(default_factory=list)  # Fortran files
    inputs: list[str] = field(default_factory=list)  # link inputs and C files, in order
    includes: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)  # -D/-U, for cpp and emcc
    emcc: list[str] = field(default_factory=list)  # -O, -g, -fPIC, -fvisibility, -sNAME, -shared
    f2c: list[str] = field(default_factory=lambda: list(F2C_FLAGS))
    form: str | None = None  # "fixed" | "free" from -ffixed-form / -ffree-form
    cpp: bool | None = None  # -cpp / -nocpp
    dump_macros: bool = False
    stdlib: bool = True
    second_underscore: bool = False


# -- the command line -------------------------------------------------------------------------------

def _option(opts: Options, arg: str, value: str | None) -> None:
    """Sort one option (its value already split off) into `opts`; refuse what f2c cannot do."""
    if arg in UNSUPPORTED or arg.startswith("-fopenmp"):
        raise F77Error(f"{arg} is not supported: f2c translates Fortran 77 with 32-bit INTEGER and no OpenMP")
    if arg in F2C_MAP:
        add, drop = F2C_MAP[arg]
        if add and add not in opts.f2c:
            opts.f2c.append(add)
        if drop in opts.f2c:
            opts.f2c.remove(drop)
    elif arg in ("-c", "-E"):
        opts.mode = {"-c": "compile", "-E": "preprocess"}[arg]
    elif arg in ("-o", "-I", "-D", "-U"):
        if arg == "-o":
            opts.output = value
        elif arg == "-I":
            opts.includes.append(value or "")
        else:
            opts.defines.append(arg + (value or ""))
    elif arg in ("-ffixed-form", "-ffree-form"):
        opts.form = arg[2:-5]
    elif arg in ("-cpp", "-nocpp"):
        opts.cpp = arg == "-cpp"
    elif arg == "-dM":
        opts.dump_macros = True
    elif arg in ("-nostdlib", "-nodefaultlibs"):
        opts.stdlib = False
    elif arg == "-fsecond-underscore":
        opts.second_underscore = True
    elif arg in ("-L", "-l", "-Xlinker"):
        opts.inputs += [arg + value] if arg != "-Xlinker" else ["-Xlinker", value or ""]
    elif arg.startswith(("-O", "-g", "-fvisibility", "-fPIC", "-fpic")) or arg == "-shared" or _em_setting(arg):
        opts.emcc.append(arg)
    elif arg.startswith("-Wl,") and arg not in ELF_ONLY:
        opts.inputs.append(arg)
    # everything else is a gfortran flag without meaning for f2c's C: -W*, -f*, -m*, -std=, -J, -x, -M*


def _em_setting(arg: str) -> bool:
    """emcc's -sNAME[=VALUE] (not -std=, -shared, -static)."""
    return len(arg) > 2 and arg.startswith("-s") and arg[2].isupper()


def _attached(arg: str) -> tuple[str, str | None]:
    """-Idir / -DX=1 / -Jdir / -lm -> ("-I", "dir"), ...; other options unchanged."""
    for opt in ("-I", "-D", "-U", "-J", "-L", "-l"):
        if arg.startswith(opt) and len(arg) > len(opt):
            return opt, arg[len(opt):]
    return arg, None


def parse_args(argv: list[str]) -> Options:
    """gfortran's command line (the part build systems use) as Options."""
    opts = Options()
    queries = {"--version": "version", "-v": "version", "-dumpversion": "dumpversion",
               "-dumpfullversion": "dumpversion", "-print-search-dirs": "search-dirs", "--help": "help",
               "--launcher": "launcher"}
    it = iter(argv)
    for arg in it:
        if arg in queries and opts.mode not in ("preprocess", "compile"):
            opts.mode = queries[arg]
            if arg == "--launcher":
                opts.output = next(it, None)
        elif arg == "-" or not arg.startswith("-"):
            _positional(opts, arg)
        else:
            name, value = _attached(arg)
            if value is None and name in WITH_VALUE:
                value = next(it, None)
                if value is None:
                    raise F77Error(f"missing argument to {name}")
            _option(opts, name, value)
    return opts


def _positional(opts: Options, arg: str) -> None:
    """A file: Fortran by its suffix, anything else goes to emcc in its place on the line."""
    if Path(arg).suffix in FIXED + FREE + PREPROCESSED:
        opts.sources.append(arg)
    else:  # objects, archives, C files, `-` (stdin, for -E)
        opts.inputs.append(arg)


# -- Fortran to C ------------------------------------------------------------------------------------

def _unquoted(text: str, mark: str) -> list[int]:
    """Where MARK stands in TEXT outside character constants ('...' or "...")."""
    found, quote = [], None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == mark:
            found.append(i)
    return found


def _split_code(line: str) -> tuple[str, str]:
    """(code, comment) of a free-form line: `!` outside a character constant starts a comment."""
    bangs = _unquoted(line, "!")
    return (line[:bangs[0]], line[bangs[0]:]) if bangs else (line, "")


def _statements(code: str) -> list[str]:
    """A free-form line's statements: `;` outside character constants separates them."""
    cuts = [-1, *_unquoted(code, ";"), len(code)]
    return [s.strip() for s in (code[a + 1:b] for a, b in zip(cuts, cuts[1:])) if s.strip()]


_END_UNIT = re.compile(r"^end\s*(program|subroutine|function|block\s*data)\b.*$", re.I)
_LABEL = re.compile(r"^(\d{1,5})\s+(.*)$")


def _fixed_lines(stmt: str) -> list[str]:
    """One statement in fixed form: label in columns 1-5, text from column 7, continued past 72."""
    label, text = "", _END_UNIT.sub("end", stmt)
    m = _LABEL.match(text)
    if m:
        label, text = m.groups()
    lines = [f"{label:<5} {text[:66]}"]
    for i in range(66, len(text), 66):
        lines.append(f"     &{text[i:i + 66]}")
    return lines


def free_to_fixed(source: str) -> str:
    """Free-form source as the fixed form f2c reads (its -f is not Fortran 90's free form):
    comments dropped, `&` continuations joined, `;` split, `end program|subroutine|...` ended."""
    out: list[str] = []
    pending = ""
    for raw in source.splitlines():
        code = _split_code(raw.replace("\t", " "))[0].rstrip()
        if pending:
            code = pending + code.lstrip().removeprefix("&")
            pending = ""
        if code.endswith("&"):
            pending = code[:-1]
            continue
        for stmt in _statements(code):
            out += _fixed_lines(stmt)
    if pending:
        out += _fixed_lines(pending)
    return "\n".join(out) + "\n"


_RECURSIVE = re.compile(r"\brecursive\s+(?=(?:subroutine|function|integer|real|double|complex|logical|"
                        r"character)\b)", re.I)
_DECL_COLONS = re.compile(r"^(\s+(?:integer|real|double\s*precision|complex|logical|character)[^:'\"]*?)\s*::",
                          re.I)
_RESULT = re.compile(r"(function\s+(\w+)\s*\([^)]*\))((?:\s|\n {5}\S)*)result\s*\(\s*(\w+)\s*\)", re.I)
_UNIT_END = re.compile(r"^\s+end\s*$", re.I | re.M)


def _code_lines(fixed_source: str, edit: Callable[[str], str]) -> str:
    """`edit` applied to every line that is not a fixed-form comment."""
    lines = fixed_source.splitlines(keepends=True)
    return "".join(ln if ln[:1] in "cC*!" else edit(ln) for ln in lines)


def _result_clause(fixed_source: str) -> str:
    """`function f(x) result(r)`: r renamed f up to the unit's END, the clause dropped."""
    m = _RESULT.search(fixed_source)
    while m:
        name, res = m.group(2), m.group(4)
        end = _UNIT_END.search(fixed_source, m.end())
        stop = end.end() if end else len(fixed_source)
        body = _code_lines(fixed_source[m.end():stop], lambda ln: re.sub(rf"\b{res}\b", name, ln, flags=re.I))
        fixed_source = fixed_source[:m.start()] + m.group(1) + m.group(3) + body + fixed_source[stop:]
        m = _RESULT.search(fixed_source, m.start() + len(m.group(1)))
    return fixed_source


def f77_dialect(fixed_source: str) -> str:
    """The Fortran 90 that modernised Fortran 77 carries, in forms f2c reads (scipy 1.17's fitpack
    has all three): RECURSIVE dropped (f2c's C is reentrant, locals being automatic: -a),
    `function f(...) result(r)` as a plain function, `real*8 :: x` as `real*8 x`."""
    fixed_source = _code_lines(fixed_source, lambda ln: _DECL_COLONS.sub(r"\1", _RECURSIVE.sub("", ln)))
    return _result_clause(fixed_source)


_SUB_DEF = re.compile(r"^/\* Subroutine \*/ int (\w+)\(.*?^\} /\* \1 \*/$", re.M | re.S)
_TWO_UNDERSCORES = re.compile(r"(?<![A-Za-z0-9_])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)__(?![A-Za-z0-9_])")
#: dummy subroutines return void too; so do dummies of unknown kind (U_fp, only passed on), which f2c
#: otherwise declares `int (*)()` in one prototype and S_fp in the next (scipy's odrpack)
_VOID_S_FP = ("/* forge-f77: gfortran's ABI, subroutines (and dummy subroutines) return void */\n"
              "typedef void (*forge_S_fp)();\n#define S_fp forge_S_fp\n#define U_fp forge_S_fp\n")


def gfortran_abi(c_source: str, second_underscore: bool = False) -> str:
    """f2c's C with gfortran's calling convention: wasm checks a call's signature, so a subroutine
    that returns int where C declares `void f_(...)` (f2py, scipy) fails to link or traps; and
    names holding an underscore get one more, not two (gfortran's -fno-second-underscore)."""
    c_source = _SUB_DEF.sub(lambda m: m.group(0).replace("return 0;", "return;"), c_source)
    c_source = c_source.replace("/* Subroutine */ int ", "/* Subroutine */ void ")
    c_source = c_source.replace('#include "f2c.h"\n', '#include "f2c.h"\n' + _VOID_S_FP, 1)
    return c_source if second_underscore else _TWO_UNDERSCORES.sub(r"\1_", c_source)


def _run(cmd: list[str], what: str, **kw: object) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, text=True, capture_output=True, **kw)  # type: ignore[call-overload]
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise F77Error(f"{what} failed (exit {res.returncode}): {shlex.join(cmd)}")
    return res


def _f2c_noise(line: str) -> bool:
    """f2c's progress lines (`x.f:`, `   name:`, `   MAIN x:`), which gfortran would not print."""
    return bool(re.fullmatch(r"\S+\.\w+:|\s+[\w ]+:", line))


def _preprocess_source(src: Path, opts: Options, out: Path) -> Path:
    """cpp for .F files (and -cpp), traditional mode as gfortran's: `//` is Fortran's concatenation."""
    cmd = ["emcc", "-E", "-P", "-traditional-cpp", "-x", "c", *opts.defines,
           *(f"-I{d}" for d in [str(src.parent), *opts.includes]), str(src), "-o", str(out)]
    _run(cmd, f"preprocessing {src}")
    return out


def translate(src: Path, opts: Options, tmp: Path) -> Path:
    """`src` as C with gfortran's ABI in `tmp` (f2c.h beside it, so `#include "f2c.h"` finds
    the build root's and no other)."""
    work = tmp / src.stem
    work.mkdir(parents=True, exist_ok=True)
    text_path = src
    if opts.cpp or (opts.cpp is None and src.suffix in PREPROCESSED):
        text_path = _preprocess_source(src, opts, work / "cpp.out")
    text = text_path.read_text(encoding="latin-1")
    if not text.endswith("\n"):  # f2c misses a last END with no newline (LAPACK 3.12's zgetsqrhrt.f)
        text += "\n"
    free = opts.form == "free" or (opts.form is None and src.suffix.lower() in FREE)
    fortran = work / f"{src.stem}.f"
    fortran.write_text(f77_dialect(free_to_fixed(text) if free else text), encoding="latin-1")
    cmd = ["f2c", *opts.f2c, f"-I{src.parent}", *(f"-I{d}" for d in opts.includes), f"-d{work}", str(fortran)]
    res = subprocess.run(cmd, text=True, capture_output=True)
    noise = [ln for ln in res.stderr.splitlines() if ln.strip() and not _f2c_noise(ln)]
    sys.stderr.write("".join(f"{ln.replace(str(fortran), str(src))}\n" for ln in noise))
    if res.returncode != 0:
        raise F77Error(f"f2c could not translate {src} (Fortran 77 only; its messages are above)")
    c_path = work / f"{src.stem}.c"
    c_path.write_text(gfortran_abi(c_path.read_text(encoding="latin-1"), opts.second_underscore),
                      encoding="latin-1")
    shutil.copyfile(F2C_HEADER, work / "f2c.h")
    return c_path


# -- emcc ---------------------------------------------------------------------------------------------

def target_flags() -> tuple[list[str], list[str]]:
    """Pyodide's compile and link flags: forge.toolchain.target's, passed by the launcher in the
    build root (where the forge is not installed)."""
    cflags = os.environ.get("FORGE_F77_CFLAGS")
    if cflags is not None:
        return cflags.split(), os.environ.get("FORGE_F77_LDFLAGS", "").split()
    try:
        from forge.toolchain.target import CFLAGS, LDFLAGS  # noqa: PLC0415
    except ImportError:
        raise F77Error("no target flags: run it in the build root through `forge-f77 --launcher DIR`") from None
    return list(CFLAGS), list(LDFLAGS)


def compile_one(src: Path, obj: Path, opts: Options, tmp: Path) -> None:
    """One Fortran file to one wasm object (position-independent, for a side module)."""
    c_path = translate(src, opts, tmp)
    cflags = target_flags()[0]
    cmd = ["emcc", *cflags, *opts.emcc, *opts.defines, *(f"-I{d}" for d in opts.includes),
           *F2C_H_FIX, *C_QUIET, "-c", str(c_path), "-o", str(obj)]
    _run(cmd, f"compiling {src} (as C)")


def _find_libf2c(opts: Options) -> bool:
    dirs = [a[2:] for a in opts.inputs if a.startswith("-L")]
    return any((Path(d) / f"libf2c.{ext}").exists() for d in dirs for ext in ("a", "so"))


def link(opts: Options, tmp: Path) -> list[str]:
    """The emcc command linking a side module (this target has no executables) with libf2c."""
    objs = []
    for i, src in enumerate(opts.sources):
        obj = tmp / f"{i}-{Path(src).stem}.o"
        compile_one(Path(src), obj, opts, tmp)
        objs.append(str(obj))
    inputs = [a for a in opts.inputs if a != "-lgfortran"]
    ldflags = [] if any(a.startswith("-sSIDE_MODULE") for a in opts.emcc) else target_flags()[1]
    libs = []
    if opts.stdlib:
        if not _find_libf2c(opts):
            raise F77Error("linking Fortran code needs the f2c runtime for wasm32 (libf2c.a), which no -L "
                           "directory holds; add `libf2c` to the recipe's host requirements (LDFLAGS has "
                           "-L$PREFIX/lib) or pass -L<dir>")
        libs = ["-lf2c"]
    out = ["-o", opts.output or "a.out.so"]
    return ["emcc", *ldflags, *opts.emcc, *objs, *inputs, *libs, *out]


def preprocess(opts: Options) -> int:
    """-E: gfortran's preprocessor run, with emcc's macros (`-E -dM -` is meson's identity probe)."""
    sources = opts.sources or opts.inputs or ["-"]
    cmd = ["emcc", "-E", "-x", "c", *(["-dM"] if opts.dump_macros else ["-P", "-traditional-cpp"]),
           *opts.defines, *(f"-I{d}" for d in opts.includes), *sources]
    res = subprocess.run(cmd, text=True, capture_output=True, stdin=sys.stdin)
    extra = "#define __GFORTRAN__ 1\n#define __FORGE_F77__ 1\n" if opts.dump_macros else ""
    text = res.stdout + extra
    if opts.output and opts.output != "-":
        Path(opts.output).write_text(text)
    else:
        sys.stdout.write(text)
    sys.stderr.write(res.stderr)
    return res.returncode


# -- identity --------------------------------------------------------------------------------------

def _tool_version(cmd: list[str], pattern: str) -> str:
    try:
        out = subprocess.run(cmd, text=True, capture_output=True).stdout
    except OSError:
        return "?"
    m = re.search(pattern, out)
    return m.group(1) if m else "?"


def version_text() -> str:
    """`--version`: meson takes "GNU Fortran" for gfortran and reads the version from `-E -dM`."""
    f2c = _tool_version(["f2c", "-?"], r"version (\d+)")
    emcc = _tool_version(["emcc", "--version"], r"(\d+\.\d+\.\d+)")
    return (f"GNU Fortran (forge-f77: f2c {f2c} and emcc {emcc}, Fortran 77 for emscripten-wasm32) "
            f"{GNU_VERSION}\nNot gfortran: f2c translates Fortran 77 to C; the name is for build systems.\n")


def search_dirs() -> str:
    """`-print-search-dirs`: meson adds `-L` for each `libraries:` entry beside -lgfortran."""
    libs = [d for d in os.environ.get("LIBRARY_PATH", "").split(":") if d]
    return f"install: /usr/lib/forge-f77/\nprograms: =\nlibraries: ={':'.join(libs)}\n"


# -- where it runs ---------------------------------------------------------------------------------

def in_build_root() -> bool:
    """Whether f2c and emcc are at hand (in the build root, or a machine set up like it)."""
    return bool(shutil.which("f2c") and shutil.which("emcc"))


def write_launcher(directory: Path) -> Path:
    """DIR/forge-f77 for commands run in the build root (meson's FC): this file and Pyodide's flags."""
    cflags, ldflags = target_flags()
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(__file__, directory / "forge_f77.py")
    script = directory / "forge-f77"
    script.write_text("#!/bin/sh\n# forge-f77 in the build root (forge-f77 --launcher): forge/helpers/fortran.py\n"
                      f"export FORGE_F77_CFLAGS={shlex.quote(' '.join(cflags))}\n"
                      f"export FORGE_F77_LDFLAGS={shlex.quote(' '.join(ldflags))}\n"
                      'exec python3.14 "$(dirname "$0")/forge_f77.py" "$@"\n')
    script.chmod(0o755)
    return script


def _binds(argv: list[str]) -> list[Path]:
    """Host directories the command names (cwd, files, -I/-L/-o dirs), never the root's own system dirs."""
    cwd = Path.cwd().resolve()
    dirs = {cwd}
    for arg in argv:
        path = arg[2:] if arg[:2] in ("-I", "-L", "-o") and len(arg) > 2 else arg
        if path.startswith("-"):
            continue
        d = (cwd / path).resolve()
        while not d.is_dir():
            d = d.parent
        if d != Path("/") and not str(d).startswith(SYSTEM_DIRS):
            dirs.add(d)
    return [d for d in sorted(dirs) if not any(p != d and d.is_relative_to(p) for p in dirs)]


def run_on_host(argv: list[str]) -> int:
    """From the host: the same command inside the build root, through a launcher in a temp dir."""
    from forge.toolchain import BuildRoot  # noqa: PLC0415

    root = BuildRoot()
    if not root.is_marked():
        raise F77Error(f"f2c and emcc are in the emscripten build root, and {root.root_dir} is missing or "
                       "incomplete; run `forge toolchain` to create it")
    with tempfile.TemporaryDirectory(prefix="forge-f77-") as tmp:
        launcher = write_launcher(Path(tmp))
        binds = [*_binds(argv), Path(tmp)]
        return root.run([str(launcher), *argv], cwd=Path.cwd(), binds=binds, check=False).returncode


# -- main ------------------------------------------------------------------------------------------

def run(opts: Options) -> int:
    """Do what `opts` asks; in the build root."""
    if opts.mode in ("version", "dumpversion", "search-dirs", "help"):
        sys.stdout.write({"version": version_text, "dumpversion": lambda: GNU_VERSION + "\n",
                          "search-dirs": search_dirs, "help": lambda: __doc__}[opts.mode]())
        return 0
    if opts.mode == "preprocess":
        return preprocess(opts)
    with tempfile.TemporaryDirectory(prefix="forge-f77-") as tmp:
        if opts.mode == "compile":
            _compile_all(opts, Path(tmp))
            return 0
        if not opts.sources and not any(not a.startswith("-") for a in opts.inputs):
            return subprocess.run(["emcc", *opts.emcc, *opts.inputs]).returncode  # e.g. -Wl,--version
        return subprocess.run(link(opts, Path(tmp))).returncode


def _compile_all(opts: Options, tmp: Path) -> None:
    """-c: each Fortran file (and C file, as gfortran would) to its object, in the working directory."""
    if opts.output and len(opts.sources) + len([a for a in opts.inputs if a.endswith(".c")]) > 1:
        raise F77Error("-o with -c names one output, and several files were given")
    for src in opts.sources:
        compile_one(Path(src), Path(opts.output or Path(src).with_suffix(".o").name), opts, tmp)
    for c_file in [a for a in opts.inputs if a.endswith(".c")]:  # C sources gfortran would compile too
        out = opts.output or Path(c_file).with_suffix(".o").name
        _run(["emcc", *target_flags()[0], *opts.emcc, *opts.defines, *(f"-I{d}" for d in opts.includes),
              "-c", c_file, "-o", str(out)], f"compiling {c_file}")


def main(argv: list[str] | None = None) -> int:
    """`forge-f77`: gfortran's command line; the work happens in the build root."""
    args = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(args)
        if opts.mode == "launcher":
            if not opts.output:
                raise F77Error("--launcher needs a directory")
            print(write_launcher(Path(opts.output)))
            return 0
        if not in_build_root():
            return run_on_host(args)
        return run(opts)
    except F77Error as exc:
        print(f"forge-f77: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
