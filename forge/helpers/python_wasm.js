#!/usr/bin/env node
// python-wasm: CPython (Pyodide's runtime) under node against an emscripten-wasm32 conda prefix.
//
//   python-wasm -c CODE | -m MODULE | SCRIPT.py [ARGS...]
//
// The prefix is the folder above this file's bin/ ($PYTHON_WASM_PREFIX overrides); Pyodide's
// runtime is <prefix>/lib/pyodide ($PYTHON_WASM_RUNTIME overrides). The working directory, the
// prefix and $PYTHON_WASM_MOUNTS (':'-separated) are mounted with NODEFS at their own paths;
// <prefix>/lib/pythonX.Y/site-packages is a site dir (.pth files work) and <prefix>/lib is on
// LD_LIBRARY_PATH, so extension modules and the shared libraries they need load from the prefix.
// stdout/stderr are written as raw bytes, stdin is read raw, and CPython's exit code is ours.
// Absolute paths in argv (and PYTHONPATH entries) are mounted too, or refused with one sentence when
// their folder would hide Pyodide's own files. $PYTHON_WASM_EXECUTABLE names sys.executable (a venv's
// bin/python sets it). Under a node with JSPI (node >= 24) the program runs with stack switching, so
// `await` works at the top level of -c and stdin programs, and urllib3/pip/micropip can fetch.
"use strict";
const fs = require("fs");
const path = require("path");

const prefix = path.resolve(process.env.PYTHON_WASM_PREFIX || path.join(__dirname, ".."));
const runtime = path.resolve(process.env.PYTHON_WASM_RUNTIME || path.join(prefix, "lib", "pyodide"));

function die(msg) {
  fs.writeSync(2, `python-wasm: ${msg}\n`);
  process.exit(2);
}

if (!fs.existsSync(path.join(runtime, "pyodide.js"))) {
  die(`no Pyodide runtime in ${runtime}; install the emscripten-wasm32 \`python\` package into ${prefix}`);
}

function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
  return buf.length;
}

function readStdin(buf) {
  for (;;) {
    try {
      return fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") return 0;
      throw e;
    }
  }
}

// Directories never shadowed: Pyodide's own stdlib and device trees live there.
const RESERVED = ["/", "/lib", "/dev", "/proc", "/home/pyodide"];

function isReserved(p) {
  return RESERVED.includes(p) || p.startsWith("/lib/") || p.startsWith("/dev/") || p.startsWith("/proc/")
    || p.startsWith("/home/pyodide/");
}

function isDir(p) {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}

// Folders that make the absolute paths in argv (`/abs/test_x.py`, `--junitxml=/abs/out.xml`) and in
// PYTHONPATH reachable inside wasm: the path itself when it is a folder, else its parent folder. A host
// path whose folder is reserved (`/test_x.py`) cannot be mounted: that is refused, not silently missed.
function argvMounts(args, environ) {
  const found = [];
  const candidates = [];
  let i = 0;
  for (; i < args.length; i++) {  // CPython's own options: the text after -c and the -m name are no paths
    const a = args[i];
    if (a === "-c" || a === "-m") { i += 2; break; }
    if ((a.startsWith("-c") || a.startsWith("-m")) && !a.startsWith("--")) { i += 1; break; }
    if (a === "-W" || a === "-X") { i++; continue; }
    if (a === "--" || !a.startsWith("-") || a === "-") break;
  }
  for (const a of args.slice(i)) {
    if (a.startsWith("/")) candidates.push(a);
    else if (a.startsWith("-") && a.includes("=/")) candidates.push(a.slice(a.indexOf("=") + 1));
  }
  for (const p of (environ.PYTHONPATH || "").split(":")) if (p.startsWith("/")) candidates.push(p);
  for (const c of candidates) {
    const p = path.resolve(c);
    const exists = fs.existsSync(p);
    const dir = isDir(p) ? p : path.dirname(p);
    if (!exists && !isDir(dir)) continue;  // not a host path: Python reports it as usual
    if (isReserved(dir)) {
      if (exists && !p.startsWith("/lib/") && !p.startsWith("/dev/") && !p.startsWith("/proc/")) {
        die(`${p} is in ${dir}, which cannot be mounted into wasm (it would hide Pyodide's own files); ` +
            "move it into a folder of its own and pass that path");
      }
      continue;
    }
    found.push(dir);
  }
  return found;
}

function mountPoints(extra) {
  const wanted = [process.cwd(), prefix, ...extra];
  for (const p of (process.env.PYTHON_WASM_MOUNTS || "").split(":")) if (p) wanted.push(p);
  const dirs = [...new Set(wanted.map((p) => path.resolve(p)))]
    .filter((p) => !isReserved(p))
    .filter(isDir)
    .sort();
  // a folder inside another mounted folder is already visible through it
  return dirs.filter((p, i) => !dirs.slice(0, i).some((q) => p.startsWith(q + "/")));
}

// A memory snapshot of the freshly started interpreter, made on the first run and reused:
// start-up drops from ~3 s to ~0.6 s. Keyed by the runtime files' identity; PYTHON_WASM_SNAPSHOT=0
// turns it off, PYTHON_WASM_CACHE moves it (default ~/.cache/python-wasm).
const SNAPSHOT_FORMAT = 1;

function snapshotPath() {
  if (process.env.PYTHON_WASM_SNAPSHOT === "0") return null;
  try {
    const ids = ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide.asm.mjs"].map((f) => {
      const st = fs.statSync(path.join(runtime, f));
      return `${st.size}-${Math.floor(st.mtimeMs)}`;
    });
    const version = JSON.parse(fs.readFileSync(path.join(runtime, "package.json"), "utf8")).version;
    const key = require("crypto").createHash("sha256")
      .update(JSON.stringify([SNAPSHOT_FORMAT, version, ids, process.versions.node])).digest("hex").slice(0, 16);
    const home = process.env.HOME && fs.existsSync(process.env.HOME) ? process.env.HOME : require("os").tmpdir();
    const dir = process.env.PYTHON_WASM_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(home, ".cache"), "python-wasm");
    return path.join(dir, `pyodide-${version}-${key}.snapshot`);
  } catch {
    return null;
  }
}

function saveSnapshot(file, data) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);  // atomic: concurrent first runs never see half a snapshot
  } catch { /* a read-only cache only costs start-up time */ }
}

async function main() {
  const { loadPyodide } = require(path.join(runtime, "pyodide.js"));
  const argv = process.argv.slice(2);
  const env = { ...process.env };
  const executable = env.PYTHON_WASM_EXECUTABLE || path.join(prefix, "bin", "python-wasm");
  delete env.PYTHON_WASM_EXECUTABLE;  // the launcher's own setting, not the program's environment
  const mounts = mountPoints(argvMounts(argv, env));
  if (!("PYTHONUNBUFFERED" in env)) env.PYTHONUNBUFFERED = "1";
  if (!("HOME" in env) || !fs.existsSync(env.HOME)) env.HOME = "/home/pyodide";
  const snapFile = snapshotPath();
  let snapshot = null;
  if (snapFile) { try { snapshot = fs.readFileSync(snapFile); } catch { snapshot = null; } }
  const py = await loadPyodide({
    indexURL: runtime + "/",
    ...(snapshot ? { _loadSnapshot: snapshot } : snapFile ? { _makeSnapshot: true } : {}),
    env,
    _sysExecutable: executable,
    stdout: (s) => writeAll(1, Buffer.from(s + "\n")),
    stderr: (s) => writeAll(2, Buffer.from(s + "\n")),
    fsInit: async (FS) => {
      for (const dir of mounts) {
        FS.mkdirTree(dir);
        FS.mount(FS.filesystems.NODEFS, { root: dir }, dir);
      }
    },
  });
  if (snapFile && !snapshot) saveSnapshot(snapFile, py.makeMemorySnapshot());
  py.setStdout({ write: (buf) => writeAll(1, buf) });
  py.setStderr({ write: (buf) => writeAll(2, buf) });
  py.setStdin({ read: readStdin });
  const cwd = process.cwd();
  try { py.FS.chdir(cwd); } catch { /* cwd was reserved or vanished: stay in Pyodide's home */ }
  const main = py.runPython(MAIN_PY + "\n_forge_main\n");
  // JSPI (node >= 24): run the program with stack switching, so run_sync/await can suspend on JS promises
  const jspi = typeof WebAssembly.Suspending === "function" && typeof main.callPromising === "function";
  let code;
  try {
    const args = [prefix, argv, py.toPy(env), executable, jspi];
    code = jspi ? await main.callPromising(...args) : main(...args);
  } catch (e) {
    if (e && e.name === "ExitStatus") code = e.status;
    else { fs.writeSync(2, `python-wasm: ${e && e.stack ? e.stack : e}\n`); code = 1; }
  }
  process.exit(typeof code === "number" ? code : 1);
}

// CPython's command line, run with runpy inside the initialised interpreter (Pyodide's own
// Py_RunMain keeps -i semantics and never turns SystemExit into an exit code).
const MAIN_PY = String.raw`
def _forge_main(prefix, argv, environ, executable, jspi):
    import atexit, os, runpy, site, sys, traceback, warnings
    argv = list(argv)
    # a memory snapshot carries the environment of the run that made it: use ours
    environ = dict(environ)
    for k in [k for k in os.environ if k not in environ and k != "LD_LIBRARY_PATH"]:
        del os.environ[k]
    os.environ.update(environ)

    def usage(msg):
        print(f"{msg}\nusage: python-wasm [option] ... [-c cmd | -m mod | file | -] [arg] ...", file=sys.stderr)
        return 2

    mode = target = None
    rest = []
    ignore_env = safe_path = False
    # CPython writes bytecode unless told not to (Pyodide turns it off: its own files are in memory);
    # the prefix, the working directory and mounts are host folders, where .pyc files pay off
    sys.dont_write_bytecode = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-c", "-m"):
            if i + 1 >= len(argv):
                return usage(f"Argument expected for the {a} option")
            mode, target, rest = a[1], argv[i + 1], argv[i + 2:]
            break
        if a[:2] in ("-c", "-m") and len(a) > 2 and not a.startswith("--"):
            mode, target, rest = a[1], a[2:], argv[i + 1:]
            break
        if a in ("-V", "--version"):
            print("Python " + sys.version.split()[0])
            return 0
        if a in ("-h", "--help"):
            print("usage: python-wasm [option] ... [-c cmd | -m mod | file | -] [arg] ...")
            return 0
        if a in ("-W", "-X"):
            if i + 1 < len(argv) and a == "-W":
                warnings._setoption(argv[i + 1]) if hasattr(warnings, "_setoption") else None
            i += 2
            continue
        if a == "--":
            i += 1
            if i < len(argv):
                mode, target, rest = "f", argv[i], argv[i + 1:]
            break
        elif a == "-":
            mode, rest = "-", argv[i + 1:]
            break
        elif a.startswith("-") and len(a) > 1 and all(ch in "uEsIqbOSdvBP" for ch in a[1:]):
            sys.dont_write_bytecode = sys.dont_write_bytecode or "B" in a
            ignore_env = ignore_env or "E" in a or "I" in a
            safe_path = safe_path or "P" in a or "I" in a
        elif a.startswith("-"):
            return usage(f"Unknown option: {a}")
        else:
            mode, target, rest = "f", a, argv[i + 1:]
            break
        i += 1

    # sys.path as CPython builds it: [program dir] + PYTHONPATH + the stdlib + site dirs. Pyodide's
    # start-up (and a snapshot made under another environment) leaves '' entries and a stale
    # PYTHONPATH behind: only the runtime's own /lib entries are kept.
    stdlib = list(dict.fromkeys(p for p in sys.path if p.startswith("/lib/")))
    pythonpath = [] if ignore_env else [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = list(dict.fromkeys(pythonpath + stdlib))
    ver = "python%d.%d" % sys.version_info[:2]
    sp = os.path.join(prefix, "lib", ver, "site-packages")
    if os.path.isdir(sp):
        site.addsitedir(sp)
    ld = [os.path.join(prefix, "lib")] + [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    os.environ["LD_LIBRARY_PATH"] = ":".join(dict.fromkeys(ld))
    os.environ.setdefault("CONDA_PREFIX", prefix)
    sys.prefix = sys.exec_prefix = prefix
    sys.executable = sys._base_executable = executable
    sys.orig_argv = [executable, *argv]  # the snapshot's would name the run that made it
    import sysconfig
    if getattr(sysconfig, "_CONFIG_VARS", None) is not None:  # computed before the prefix was ours
        sysconfig._CONFIG_VARS = None
        sysconfig._CONFIG_VARS_INITIALIZED = False
    safe_path = safe_path or (not ignore_env and bool(os.environ.get("PYTHONSAFEPATH")))
    if not ignore_env and os.environ.get("PYTHONDONTWRITEBYTECODE"):
        sys.dont_write_bytecode = True

    def first(entry):
        if not safe_path:
            sys.path.insert(0, entry)

    def run_source(src, filename):
        import ast, inspect
        code = compile(src, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if not code.co_flags & inspect.CO_COROUTINE:
            exec(code, main_globals)
            return
        from pyodide.ffi import can_run_sync, run_sync
        if not can_run_sync():
            raise SystemExit("python-wasm: top-level await needs JSPI (stack switching): run under node >= 24, "
                             "e.g. the python of a forge venv")
        run_sync(eval(code, main_globals))

    main_globals = sys.modules["__main__"].__dict__
    code = 0
    try:
        try:
            if mode == "c":
                sys.argv = ["-c", *rest]
                first("")
                run_source(target, "<string>")
            elif mode == "m":
                sys.argv = [target, *rest]
                first(os.getcwd())
                runpy._run_module_as_main(target, alter_argv=True)
            elif mode == "f":
                sys.argv = [target, *rest]
                first(os.path.dirname(os.path.abspath(target)))
                if not os.path.exists(target):
                    print(f"python-wasm: can't open file {os.path.abspath(target)!r}: [Errno 2] No such file or directory", file=sys.stderr)
                    return 2
                runpy.run_path(target, run_name="__main__")
            else:
                sys.argv = ["-" if mode == "-" else "", *rest]
                first("")
                run_source(sys.stdin.read(), "<stdin>")
        finally:
            atexit._run_exitfuncs()
    except SystemExit as exc:
        c = exc.code
        if c is None:
            code = 0
        elif isinstance(c, int):
            code = c
        else:
            print(c, file=sys.stderr)
            code = 1
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and (tb.tb_frame.f_code.co_filename in ("<exec>", "<forge>") or "runpy" in tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        sys.excepthook(type(exc), exc, tb)
        code = 1
    finally:
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:
                pass
    return code & 0xFF if code >= 0 else 1
`;

main().catch((e) => { fs.writeSync(2, `python-wasm: ${e && e.stack ? e.stack : e}\n`); process.exit(1); });
