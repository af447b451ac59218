"""How fast convlint lints real model libraries, next to libcst's own parse and its peers.

Prepares the pinned corpus (``corpus.py``: wheels fetched by name and version with pip), then
times, on the same files and in the same run, several times each (the median is printed):

* convlint cold (an empty cache) and warm (the cache of the cold run), as the CLI runs, from its
  compiled bytecode as an installed convlint does;
* libcst's ``parse_module`` of every file convlint parses (the linted files the prefilter keeps
  and the files they import), in one process: the floor of any libcst-based tool;
* Python's start-up with ``import libcst``: the floor of a warm run;
* the peers that install with pip (TorchFix, flake8, ruff, pinned below) in a temporary venv;
* convlint cold on half of the files, to show how time grows with the number of files;
* the peak memory of convlint cold on the whole corpus (all its processes together, as PSS).

    python benchmarks/speed.py [--runs 3] [--corpus NAME ...] [--no-peers]

Timings depend on the machine and on what else it runs; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import corpus

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = ("torchvision", "timm", "torchaudio", "segmentation-models-pytorch", "monai")
PEERS = {"torchfix": "0.7.0", "flake8": "7.5.0", "ruff": "0.17.5"}


# --------------------------------------------------------------------- measuring


def timed(command: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None) -> Tuple[float, int]:
    """Wall seconds of ``command``, and the peak memory (KiB) of its process tree: the sum of
    the processes' proportional set sizes (PSS: pages a forked worker shares with its parent
    count once, split between them), sampled every 20 ms."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stderr.decode()[-2000:]}")
    return elapsed, peak[0]


def _tree_rss(pid: int) -> int:
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


# --------------------------------------------------------------------- what convlint parses


def parsed_files(roots: Sequence[Path], workdir: Path) -> List[Path]:
    """Every file convlint parses when linting ``roots``: the linted files the prefilter keeps
    and everything their analysis loads (run once, in this process, to watch it)."""
    sys.path.insert(0, str(REPO_ROOT))
    from convlint.analysis import imports
    from convlint.config import load_settings
    from convlint.files import discover
    from convlint.runner import Linter

    seen: List[Path] = []
    original = imports.Project.load

    def load(project, path, text=None):
        resolved = path.resolve()
        fresh = project._by_path.get(resolved) is None
        source = original(project, path, text)
        if fresh:
            seen.append(resolved)
        return source

    imports.Project.load = load
    try:
        settings = load_settings(workdir, isolated=True)
        Linter(settings, workdir, jobs=1).lint_paths(discover(list(roots), settings))
    finally:
        imports.Project.load = original
    return sorted(set(seen))


PARSE_ONLY = """
import sys, libcst
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        libcst.parse_module(handle.read())
"""


# --------------------------------------------------------------------- peers


def peer_venv(folder: Path) -> Optional[Path]:
    """A venv with the pinned peers, or None when pip cannot install them."""
    bin_dir = folder / "bin"
    if not (bin_dir / "ruff").exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        pins = [f"{name}=={version}" for name, version in PEERS.items()]
        result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *pins],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(f"peers not installed: {result.stderr[-500:]}", file=sys.stderr)
            return None
    return bin_dir


# --------------------------------------------------------------------- the run


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (median)")
    parser.add_argument("--corpus", action="append", choices=sorted(corpus.CORPUS), metavar="NAME",
                        help=f"a corpus, repeatable (default: {', '.join(DEFAULT_CORPORA)})")
    parser.add_argument("--no-peers", action="store_true", help="skip TorchFix, flake8 and ruff")
    parser.add_argument("--peer-runs", type=int, help="runs of each peer (default: --runs)")
    parser.add_argument("--peer-venv", type=Path, help="where to keep the peers' venv (default: a temporary folder)")
    args = parser.parse_args(argv)
    names = args.corpus or list(DEFAULT_CORPORA)

    # All corpora side by side in one folder, so that one command lints them all.
    workdir = Path(tempfile.mkdtemp(prefix="convlint-speed-"))
    roots: List[Path] = []
    for name in names:
        for root in corpus.lint_roots(name):
            roots.append(root)
    files, lines = corpus.count_python(roots)
    print(f"corpus: {', '.join(f'{n} {corpus.CORPUS[n].version}' for n in names)}: {files} files, {lines:,} lines",
          flush=True)

    # convlint runs from its compiled bytecode, as pip installs it (and as libcst and the peers
    # run): compiled once into the work folder, whatever PYTHONDONTWRITEBYTECODE says.
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONPYCACHEPREFIX=str(workdir / "bytecode"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "convlint")], env=env, check=True)
    convlint = [sys.executable, "-m", "convlint", "--isolated", "--exit-zero", "--output-format", "json"]
    results: Dict[str, float] = {}

    def cold(paths: Sequence[Path]) -> Tuple[float, int]:
        cache = workdir / "cache-cold"
        shutil.rmtree(cache, ignore_errors=True)
        return timed(convlint + ["--cache-dir", str(cache)] + [str(p) for p in paths], workdir, env)

    cold_runs = [cold(roots) for _ in range(args.runs)]
    results["convlint cold"] = statistics.median(t for t, _ in cold_runs)
    peak_kib = max(m for _, m in cold_runs)
    print(f"convlint cold: {results['convlint cold']:.2f} s, peak memory {peak_kib / 1024:.0f} MiB", flush=True)

    warm_cache = workdir / "cache-warm"
    timed(convlint + ["--cache-dir", str(warm_cache)] + [str(r) for r in roots], workdir, env)
    results["convlint warm"] = median_of(args.runs, lambda: timed(
        convlint + ["--cache-dir", str(warm_cache)] + [str(r) for r in roots], workdir, env)[0])
    print(f"convlint warm: {results['convlint warm']:.2f} s", flush=True)

    one_core = convlint + ["--jobs", "1", "--no-cache"]
    single_runs = [timed(one_core + [str(r) for r in roots], workdir, env) for _ in range(args.runs)]
    results["convlint cold, 1 process"] = statistics.median(t for t, _ in single_runs)
    single_peak_kib = max(m for _, m in single_runs)
    print(f"convlint cold, 1 process: {results['convlint cold, 1 process']:.2f} s, "
          f"peak memory {single_peak_kib / 1024:.0f} MiB", flush=True)

    # Half of the files (every other one, sorted): time should halve too.
    every = sorted(p for r in roots for p in r.rglob("*.py"))
    half = every[::2]
    results["convlint cold, half the files"] = median_of(args.runs, lambda: cold(half)[0])
    print(f"convlint cold on {len(half)} of {len(every)} files: {results['convlint cold, half the files']:.2f} s",
          flush=True)

    parsed = parsed_files(roots, workdir)
    listing = workdir / "parsed.txt"
    listing.write_text("\n".join(map(str, parsed)))
    results["libcst parse-only"] = median_of(args.runs, lambda: timed(
        [sys.executable, "-c", PARSE_ONLY, *map(str, parsed)], workdir)[0])
    print(f"libcst parse-only of the {len(parsed)} files convlint parses: {results['libcst parse-only']:.2f} s",
          flush=True)
    results["python + import libcst"] = median_of(args.runs, lambda: timed(
        [sys.executable, "-c", "import libcst"], workdir)[0])
    print(f"python + import libcst: {results['python + import libcst']:.2f} s", flush=True)

    if not args.no_peers:
        venv_folder = args.peer_venv or workdir / "peers"
        bin_dir = peer_venv(venv_folder)
        if bin_dir is not None:
            commands = {
                f"TorchFix {PEERS['torchfix']}": [str(bin_dir / "torchfix")],
                f"flake8 {PEERS['flake8']}": [str(bin_dir / "flake8")],
                f"ruff {PEERS['ruff']}": [str(bin_dir / "ruff"), "check", "--no-cache", "--isolated", "--exit-zero"],
            }
            for label, command in commands.items():
                results[label] = median_of(args.peer_runs or args.runs,
                                           lambda: timed(command + [str(r) for r in roots], workdir)[0])
                print(f"{label}: {results[label]:.2f} s", flush=True)

    print()
    print(markdown(results, files, lines, len(half), len(every), peak_kib, single_peak_kib, args.runs))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def markdown(results: Dict[str, float], files: int, lines: int, half: int, every: int, peak_kib: int,
             single_peak_kib: int, runs: int) -> str:
    cold = results["convlint cold"]
    rows = ["| what | wall time (median of %d) | ratio |" % runs, "| --- | --- | --- |"]
    for label, seconds in results.items():
        ratio = ""
        if label.startswith(("TorchFix", "flake8", "ruff")):
            ratio = f"{seconds / cold:.1f}× convlint cold's time"
        elif label == "libcst parse-only":
            ratio = f"convlint cold takes {cold / seconds:.2f}× this"
        elif label == "python + import libcst":
            ratio = f"convlint warm takes {results['convlint warm'] / seconds:.2f}× this"
        elif label == "convlint cold, half the files":
            ratio = f"{seconds / cold:.2f} of the time for {half / every:.2f} of the files"
        rows.append(f"| {label} | {seconds:.2f} s | {ratio} |")
    rows.append(f"| peak memory of convlint cold, all its processes (PSS) | {peak_kib / 1024:.0f} MiB | |")
    rows.append(f"| peak memory of convlint cold, 1 process (PSS) | {single_peak_kib / 1024:.0f} MiB | |")
    return f"{files} files, {lines:,} lines\n\n" + "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
