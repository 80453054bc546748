"""This machine's pip, with PEP 508 markers evaluated for the Python it downloads for.

`pip download --python-version 3.14` picks 3.14 wheels but evaluates every dependency's markers
in the Python pip itself runs in (pypa/pip#10050, #11010): run from the forge's 3.11, a build
tool's `typing-extensions; python_version < "3.13"` is fetched for the build root's 3.14, and a
`python_version >= "3.12"` dependency is silently left out. Running pip in the build root instead
would lose this machine's pip configuration (indexes, find-links, certificates, constraints).
So pip runs here, as configured, with one change: its marker environment is the target's.

    python -m forge.pipmarkers ENV_JSON download ...   # ENV_JSON: the PEP 508 environment
"""

from __future__ import annotations

import json
import sys


def run_pip(environment: dict[str, str], args: list[str]) -> int:
    """pip's CLI with `environment` as the default marker environment of its vendored packaging
    (what every requirement's and every dependency's `Marker.evaluate` starts from)."""
    from pip._internal.cli.main import main as pip_main  # noqa: PLC0415
    from pip._vendor.packaging import markers  # noqa: PLC0415

    own = markers.default_environment
    markers.default_environment = lambda: {**own(), **environment}
    probe = markers.Marker(f'python_version == "{environment["python_version"]}"')
    if not probe.evaluate():
        print("forge.pipmarkers: this pip does not evaluate markers through packaging.markers.default_environment; "
              "its marker environment cannot be set", file=sys.stderr)
        return 3
    return pip_main(args)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    return run_pip(json.loads(sys.argv[1]), sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
