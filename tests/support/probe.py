"""The cell a browser check runs: import a package of the site's lock and print a computed
value. A compiled package (a pyemscripten wheel) is preferred when the channel has one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """The cell the browser runs: which channel package it imports and what it must print."""

    package: str
    compiled: bool
    code: str
    expect: str  # the cell's last line: what the browser driver waits for
    #: every known compiled package the cell checks (the primary, `package`, last) and the
    #: line each must print; empty for a single check
    packages: tuple[str, ...] = ()
    expects: tuple[str, ...] = ()


#: Computed values for compiled packages we know; any other compiled package is checked by
#: counting the extension modules its import loaded.
KNOWN_COMPILED = {
    "numpy": ("import numpy as np\nprint('forge-lite:', int((np.arange(10) ** 2).sum()), np.__version__)",
              "forge-lite: 285"),
    # markupsafe falls back to pure Python when _speedups is missing: check the C function ran
    "markupsafe": ("import markupsafe\nfrom markupsafe import _speedups\n"
                   "print('forge-lite:', markupsafe.escape('<a href=\"x\">&</a>'), "
                   "markupsafe._escape_inner is _speedups._escape_inner)",
                   "forge-lite: &lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; True"),
}
DATEUTIL = ("import datetime\nfrom dateutil.relativedelta import relativedelta\n"
            "print('forge-lite:', datetime.date(2024, 1, 31) + relativedelta(months=1))",
            "forge-lite: 2024-02-29")


def pick_probe(lock: dict) -> Probe:
    """A compiled (pyemscripten wheel) package of the lock if there is one, else python-dateutil.

    Known compiled packages (KNOWN_COMPILED) come first, and the cell checks all of those the
    lock holds; otherwise the first other compiled package's extension modules are counted."""
    pkgs = lock["packages"]
    compiled = sorted(k for k, v in pkgs.items()
                      if v["package_type"] == "package" and v["file_name"].endswith("_wasm32.whl") and v["imports"])
    rank = {n: i for i, n in enumerate(KNOWN_COMPILED)}
    known = sorted((n for n in compiled if n in rank), key=rank.__getitem__)
    if known:
        # every known compiled package is checked (so markupsafe's C speedups are proven even
        # when numpy is there too); the preferred one runs last and is the one waited for
        order = known[::-1]
        return Probe(known[0], True, "\n".join(KNOWN_COMPILED[n][0] for n in order),
                     KNOWN_COMPILED[known[0]][1], tuple(order), tuple(KNOWN_COMPILED[n][1] for n in order))
    for name in sorted(compiled):
        mod = pkgs[name]["imports"][0]
        code = (f"import importlib, sys\nimportlib.import_module({mod!r})\n"
                f"ext = [m for m in list(sys.modules.values()) if (getattr(m, '__file__', None) or '')"
                f".endswith('.so') and m.__name__.split('.')[0] == {mod!r}]\n"
                f"print('forge-lite:', {mod!r}, 'extension modules loaded:', len(ext) > 0)")
        return Probe(name, True, code, f"forge-lite: {mod} extension modules loaded: True")
    return Probe("python-dateutil", False, *DATEUTIL)
