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

function mountPoints() {
  const wanted = [process.cwd(), prefix];
  for (const p of (process.env.PYTHON_WASM_MOUNTS || "").split(":")) if (p) wanted.push(p);
  const dirs = [...new Set(wanted.map((p) => path.resolve(p)))]
    .filter((p) => !RESERVED.includes(p) && !p.startsWith("/lib/") && !p.startsWith("/dev/") && !p.startsWith("/proc/"))
    .filter((p) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } })
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
  const mounts = mountPoints();
  const env = { ...process.env };
  if (!("PYTHONUNBUFFERED" in env)) env.PYTHONUNBUFFERED = "1";
  if (!("HOME" in env) || !fs.existsSync(env.HOME)) env.HOME = "/home/pyodide";
  const snapFile = snapshotPath();
  let snapshot = null;
  if (snapFile) { try { snapshot = fs.readFileSync(snapFile); } catch { snapshot = null; } }
  const py = await loadPyodide({
    indexURL: runtime + "/",
    ...(snapshot ? { _loadSnapshot: snapshot } : snapFile ? { _makeSnapshot: true } : {}),
    env,
    _sysExecutable: path.join(prefix, "bin", "python-wasm"),
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
  let code;
  try {
    code = main(prefix, process.argv.slice(2), py.toPy(env));
  } catch (e) {
    if (e && e.name === "ExitStatus") code = e.status;
    else { fs.writeSync(2, `python-wasm: ${e && e.stack ? e.stack : e}\n`); code = 1; }
  }
  process.exit(typeof code === "number" ? code : 1);
}

// CPython's command line, run with runpy inside the initialised interpreter (Pyodide's own
// Py_RunMain keeps -i semantics and never turns SystemExit into an exit code).
const MAIN_PY = String.raw`
def _forge_main(prefix, argv, environ):
    import atexit, os, runpy, site, sys, traceback, warnings
    argv = list(argv)
    # a memory snapshot carries the environment of the run that made it: use ours
    environ = dict(environ)
    for k in [k for k in os.environ if k not in environ and k != "LD_LIBRARY_PATH"]:
        del os.environ[k]
    os.environ.update(environ)
    ver = "python%d.%d" % sys.version_info[:2]
    sp = os.path.join(prefix, "lib", ver, "site-packages")
    if os.path.isdir(sp):
        site.addsitedir(sp)
    ld = [os.path.join(prefix, "lib")] + [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    os.environ["LD_LIBRARY_PATH"] = ":".join(dict.fromkeys(ld))
    os.environ.setdefault("CONDA_PREFIX", prefix)
    sys.prefix = sys.exec_prefix = prefix

    def usage(msg):
        print(f"{msg}\nusage: python-wasm [option] ... [-c cmd | -m mod | file | -] [arg] ...", file=sys.stderr)
        return 2

    mode = target = None
    rest = []
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
        if a == "-B":
            sys.dont_write_bytecode = True
        elif a == "--":
            i += 1
            if i < len(argv):
                mode, target, rest = "f", argv[i], argv[i + 1:]
            break
        elif a == "-":
            mode, rest = "-", argv[i + 1:]
            break
        elif a.startswith("-") and all(ch in "uEsIqbOSdv" for ch in a[1:]) and len(a) > 1:
            pass  # accepted, no effect in wasm (output is already unbuffered)
        elif a.startswith("-"):
            return usage(f"Unknown option: {a}")
        else:
            mode, target, rest = "f", a, argv[i + 1:]
            break
        i += 1

    main_globals = sys.modules["__main__"].__dict__
    code = 0
    try:
        try:
            if mode == "c":
                sys.argv = ["-c", *rest]
                sys.path.insert(0, "")
                exec(compile(target, "<string>", "exec"), main_globals)
            elif mode == "m":
                sys.argv = [target, *rest]
                sys.path.insert(0, os.getcwd())
                runpy._run_module_as_main(target, alter_argv=True)
            elif mode == "f":
                sys.argv = [target, *rest]
                sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
                if not os.path.exists(target):
                    print(f"python-wasm: can't open file {os.path.abspath(target)!r}: [Errno 2] No such file or directory", file=sys.stderr)
                    return 2
                runpy.run_path(target, run_name="__main__")
            else:
                sys.argv = ["-" if mode == "-" else "", *rest]
                sys.path.insert(0, "")
                exec(compile(sys.stdin.read(), "<stdin>", "exec"), main_globals)
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
