"""``python -m benchmarks NAME``: run a benchmark, print its figures and baselines as JSON.

``make bench BENCH=api`` calls this with the benchmark database's settings;
``all`` runs every benchmark but ``scale``, which is run by name only.
Each benchmark is a module here with ``run(**options) -> dict``.
"""

import argparse
import importlib
import json
import os

# benchmark name -> module in benchmarks/
BENCHMARKS = {
    "seed": "benchmarks.seed",
    "import": "benchmarks.imports",
    "export": "benchmarks.exports",
    "dashboard": "benchmarks.dashboard",
    "api": "benchmarks.api",
    "xlsx": "benchmarks.xlsx_writers",
    "scale": "benchmarks.scale",
    "admin_lists": "benchmarks.admin_lists",
    "purchasing": "benchmarks.purchasing",
    "nfe": "benchmarks.nfe",
}
# Left out of "all": it seeds 10,000,000 movements in databases of its own (minutes).
EXPLICIT_ONLY = {"scale"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--movements", type=int, default=None)
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    names = (
        [name for name in BENCHMARKS if name not in EXPLICIT_ONLY]
        if options.name == "all"
        else [options.name]
    )
    sizes = {key: getattr(options, key) for key in ("rows", "products", "movements")}
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        result = module.run(**{key: value for key, value in sizes.items() if value is not None})
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
