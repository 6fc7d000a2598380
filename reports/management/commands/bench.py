import importlib
import json

from django.core.management.base import BaseCommand, CommandError

# benchmark name -> module in benchmarks/ with run(**options) -> dict
BENCHMARKS = {
    "seed": "benchmarks.seed",
    "import": "benchmarks.imports",
    "export": "benchmarks.exports",
    "dashboard": "benchmarks.dashboard",
    "api": "benchmarks.api",
}


class Command(BaseCommand):
    help = "Run a benchmark and print its figures and baselines as one JSON line."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=[*BENCHMARKS, "all"])
        parser.add_argument("--rows", type=int, default=None)
        parser.add_argument("--products", type=int, default=None)
        parser.add_argument("--movements", type=int, default=None)

    def handle(self, *args, name, **options):
        names = list(BENCHMARKS) if name == "all" else [name]
        for bench in names:
            try:
                module = importlib.import_module(BENCHMARKS[bench])
            except ModuleNotFoundError:
                if name == "all":
                    continue
                raise CommandError(f"Benchmark {bench!r} is not written yet.") from None
            kwargs = {key: options[key] for key in ("rows", "products", "movements")}
            result = module.run(**{k: v for k, v in kwargs.items() if v is not None})
            self.stdout.write(json.dumps(result))
