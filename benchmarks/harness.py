"""Benchmarks: how fast the book is rebuilt and rerun, beside the plain Jupyter Book path, and how
cost grows with the size of a wave (issue 7).

    make bench                                         # everything, 3 runs of each
    kam bench --repeats 5 --large-repeats 1
    kam bench --scenarios ours plain noop --repeats 3
    kam bench --scenarios synth --sizes 112 10000

Writes `_build/bench/results.csv` (one row per scenario: median, min and max wall time, peak
memory, the size of each built chapter page and of the edition's whole site), `runs.csv` (every
run) and `results.md` (the same as tables, with the ratios and the targets met or missed).

Scenarios, all run on copies of this checkout under `_build/bench/work/` (sources only, no
caches: no rendered figures, no validated waves), with this Python environment:

  ours     The new-wave command end to end (`kam wave`: import, validate, execute
           every chapter, build, publish) on the 2022 wave. The 2022 responses are republished
           under a fresh wave id ("2022-bench") with the 2022 wave's metadata and
           `--compare-with ''`, in a fresh copy of the repository for each run. This is the
           command itself rather than its steps called one by one, so that everything it does
           is counted (the staging copy, the swap into the site); and without a comparison,
           so that its chapters compute exactly what the plain path's do (the 2022 edition).
           The published site is copied into each copy first, as a checkout that has run
           `make book` would have it, so the earlier edition is kept, not rebuilt.
  plain    The same chapters built by `jupyter-book build . -W -n --keep-going` with
           `execute_notebooks: force` (each notebook executed serially inside Sphinx, each in
           a fresh kernel), from a fresh copy of the book, with the cache of validated waves
           off (KAM_WAVE_CACHE=off): what Jupyter Book does without this project's machinery.
  noop     `make book` again on a copy where `make book` has just run and nothing changed
           (the chapters, html and site steps all up to date).
  noop-sphinx  For reference: `jupyter-book build` again on an unchanged, built book (what
           Sphinx's own incremental build costs; `make book` skips it when nothing changed).
  synth    The new-wave command on synthetic waves generated from the codebook
           (`kam synth`, seed 1, wave 2023, valid data) of each size in --sizes
           (112, 10,000, 100,000 and 1,000,000 by default), compared with 2022 as a real new
           wave would be. Generating the file is not timed.
  validate `kam validate` on the largest synthetic wave (every check, no cache).

Measured for each run:
  wall     seconds from start to exit of the command (time.perf_counter);
  memory   the peak, over the run, of the memory of the whole process tree (the command and
           every descendant: papermill workers, the kernel server, kernels, Sphinx), sampled
           every 0.1 s with psutil: `peak_pss_mb` sums each process's proportional set size
           (a page shared by several processes, e.g. a wave a forked kernel shares with the
           kernel server, is counted once overall) and is the figure the 2 GB target is held
           to; `peak_rss_mb` sums resident set sizes (shared pages counted in every process
           that maps them: an upper bound). Peaks shorter than the sampling interval can be missed;
  sizes    bytes of each chapter page as built (`chapters/<name>.html`) and of the edition's
           whole site folder (every file of `_build/site/editions/<wave>/`; `_build/html/` for
           the plain path).

Reported: the median of the runs (min and max beside it), and ratios, which hold on a noisy
machine where absolute seconds do not: ours / plain; time(n) / time(n = 112); page and site
size at n / at n = 112. Runs of different scenarios are interleaved (round after round), so a
slow spell of the machine is shared rather than landing on one scenario.

The benchmark never touches this checkout's chapters, data or site; it needs the environment
installed (`make venv`) and, for `noop`, that environment's install stamp for this lock (it
runs `make book` in a copy with VENV pointing here and refuses to run if make would reinstall).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kamsurvey.build import website as build_site
from kamsurvey.data import synth
from kamsurvey.data.editions import load_editions
from kamsurvey.data.waves import read_meta

OUT = Path("_build") / "bench"
SIZES = (112, 10_000, 100_000, 1_000_000)
SCENARIOS = ("ours", "plain", "noop", "noop-sphinx", "synth", "validate")
LARGE = 1_000_000  # waves this big run --large-repeats times
SYNTH_WAVE = "2023"
BENCH_WAVE = "2022-bench"
SEED = 1
# targets of issue 7
TARGET_RATIO_PLAIN = 0.5
TARGET_NOOP_S = 2.0
TARGET_RATIO_1M = 2.0
TARGET_MEMORY_MB = 2048
TARGET_SIZE_SPREAD = 0.05
TARGET_VALIDATE_S = 10.0


# --------------------------------------------------------------------------- measuring one run


class TreeMemory(threading.Thread):
    """Peak PSS and RSS (sums over a process and all its descendants), sampled every `interval` s."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_pss = 0
        self.peak_rss = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        pss = rss = 0
        for process in processes:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            pss += info.pss
            rss += info.rss
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Run:
    scenario: str
    n: int | None
    round: int
    wall_s: float
    peak_pss_mb: float
    peak_rss_mb: float
    pages: dict[str, int] = field(default_factory=dict)
    site_bytes: int | None = None
    parts: dict[str, dict[str, int]] = field(default_factory=dict)  # page -> page_parts()


class BenchFailed(RuntimeError):
    pass


def measure(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run `command`; (wall seconds, peak PSS MB, peak RSS MB) of its process tree. Its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeMemory(process.pid)
        sampler.start()
        code = process.wait()
        wall = time.perf_counter() - started
        sampler.stop()
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        raise BenchFailed(f"{' '.join(command)} (in {cwd}) exited {code}; log {log}:\n{tail}")
    return wall, sampler.peak_pss / 2**20, sampler.peak_rss / 2**20


def pages_and_site(html: Path) -> tuple[dict[str, int], int]:
    pages = {p.stem: p.stat().st_size for p in sorted((html / "chapters").glob("*.html"))}
    site = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
    return pages, site


def chapter_parts(html: Path) -> dict[str, dict[str, int]]:
    return {p.stem: page_parts(p.read_text(encoding="utf-8")) for p in sorted((html / "chapters").glob("*.html"))}


PAGE_PARTS = {  # what a built page's bytes are made of, so that a change of size can be put down to its cause
    "chart_svg": re.compile(r"<svg\b.*?</svg>", re.S),
    "chart_spec": re.compile(r'<script type="application/json" class="kam-spec">.*?</script>', re.S),
    "data_table": re.compile(r'<table class="kam-data-table">.*?</table>', re.S),
}
SVG_MARK = re.compile(r"<(?:path|line|rect|text)\b")


def page_parts(html: str) -> dict[str, int]:
    """Bytes of a page's static charts, chart specs, data tables and everything else, with the marks its
    charts draw and the cells it suppresses: a page whose size moves with n should move only because its
    charts show more or fewer bars (cells suppressed at a small base), never because it carries rows."""
    parts = {name: sum(len(m.group(0).encode()) for m in pattern.finditer(html)) for name, pattern in PAGE_PARTS.items()}
    parts["other"] = len(html.encode()) - sum(parts.values())
    parts["svg_marks"] = sum(len(SVG_MARK.findall(m.group(0))) for m in PAGE_PARTS["chart_svg"].finditer(html))
    parts["suppressed_cells"] = sum(m.group(0).count("<td>[c]</td>") for m in PAGE_PARTS["data_table"].finditer(html))
    return parts


# --------------------------------------------------------------------------- the copies


class Workspace:
    def __init__(self, root: Path, source: Path):
        self.root = root
        self.source = source  # the checkout being measured (copied, never touched)
        self.template = root / "template"
        self.python = sys.executable
        self.venv = Path(sys.executable).parent.parent
        self.sizes: list[int] = list(SIZES)
        self.keep = False

    def env(self, book: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KAM_EDITION", "KAM_WAVE_CACHE", "KAM_KERNEL_SERVER")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def prepare(self) -> None:
        """A copy of the sources without any cache, with the published site (built here if this checkout has none)."""
        if self.template.exists():
            shutil.rmtree(self.template)
        shutil.copytree(self.source, self.template, ignore=shutil.ignore_patterns(*build_site.NOT_SOURCES), symlinks=True)
        site = self.source / build_site.SITE
        editions = [e.wave for e in load_editions(self.source / "data")]
        if all((site / build_site.EDITIONS_DIR / str(w) / "index.html").is_file() for w in editions):
            # _build/site is a link to the served version (kamsurvey.build.website): the copy takes what it serves
            shutil.copytree(site.resolve(), self.template / build_site.SITE, symlinks=True)
        else:
            say("  (this checkout has no built site: building it once in the template)")
            measure([self.python, "-m", "kamsurvey", "site"], cwd=self.template, env=self.env(self.template),
                    log=self.root / "logs" / "template-site.log")
            served = self.template / build_site.SITE
            if served.is_symlink():  # a real folder in the template: its versions are dropped below
                target = served.resolve()
                served.unlink()
                shutil.copytree(target, served, symlinks=True)
        for cache in ("jupyter_execute", ".doctrees", "html", ".versions", build_site.FIGURE_CACHE,
                      build_site.WAVE_CACHE, ".stamps"):
            path = self.template / "_build" / cache
            if path.is_symlink():
                path.unlink()
            else:
                shutil.rmtree(path, ignore_errors=True)

    def fresh_copy(self, name: str) -> Path:
        target = self.root / "runs" / name
        if self.keep:
            target = target.with_name(f"{name}-{len(list(target.parent.glob(name + '-*'))) if target.parent.exists() else 0}")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.template, target, symlinks=True)
        return target

    def discard(self, path: Path) -> None:
        if not self.keep:
            shutil.rmtree(path, ignore_errors=True)


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- scenarios


def run_ours(ws: Workspace, round_: int) -> Run:
    book = ws.fresh_copy("ours")
    meta = read_meta(book / "data", "2022")
    command = [ws.python, "-m", "kamsurvey", "wave", "--wave", BENCH_WAVE, "--data", str(book / "data/waves/2022/responses.csv"),
               "--compare-with", "", "--title", meta.title,
               "--fieldwork-start", meta.fieldwork_start.isoformat(), "--fieldwork-end", meta.fieldwork_end.isoformat(),
               "--provenance", meta.provenance, "--provenance-note", meta.provenance_note,
               "--published", (meta.published or dt.date(2022, 10, 1)).isoformat()]
    wall, pss, rss = measure(command, cwd=book, env=ws.env(book), log=ws.root / "logs" / f"ours-{round_}.log")
    edition = book / build_site.SITE / build_site.EDITIONS_DIR / BENCH_WAVE
    pages, site = pages_and_site(edition)
    parts = chapter_parts(edition)
    ws.discard(book)
    return Run("ours", 112, round_, wall, pss, rss, pages, site, parts)


def run_plain(ws: Workspace, round_: int) -> Run:
    book = ws.fresh_copy("plain")
    shutil.rmtree(book / build_site.SITE, ignore_errors=True)
    config = book / "_config.yml"
    text = config.read_text(encoding="utf-8")
    forced = text.replace('execute_notebooks: "off"', 'execute_notebooks: "force"')
    if forced == text:
        raise BenchFailed('_config.yml has no `execute_notebooks: "off"` to switch to "force"')
    config.write_text(forced, encoding="utf-8")
    command = [str(ws.venv / "bin" / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"]
    wall, pss, rss = measure(command, cwd=book, env=ws.env(book, KAM_WAVE_CACHE="off"),
                             log=ws.root / "logs" / f"plain-{round_}.log")
    pages, site = pages_and_site(book / "_build" / "html")
    ws.discard(book)
    return Run("plain", 112, round_, wall, pss, rss, pages, site)


def venv_stamp(book: Path, venv: Path) -> Path:
    """The install stamp `make` looks for in VENV (see the Makefile: a hash of the lock and pyproject.toml)."""
    digest = hashlib.sha256((book / "requirements.txt").read_bytes() + (book / "pyproject.toml").read_bytes()).hexdigest()
    return venv / f".installed-{digest[:12]}"


class NoopBook:
    """A copy on which `make book` has run once; each timed run is `make book` again."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.book: Path | None = None

    def make(self, log: Path) -> tuple[float, float, float]:
        stamp = venv_stamp(self.book, self.ws.venv)
        if not stamp.is_file():
            raise BenchFailed(f"{stamp} is missing: `make` would reinstall the environment from a copy (run "
                              "`make venv` in this checkout first)")
        # -o: never remake the install stamp (so never `pip install -e` from a copy)
        command = ["make", "--no-print-directory", "-o", str(stamp), "book", f"VENV={self.ws.venv}"]
        return measure(command, cwd=self.book, env=self.ws.env(self.book), log=log)

    def setup(self) -> None:
        self.book = self.ws.fresh_copy("noop")
        self.make(self.ws.root / "logs" / "noop-setup.log")

    def run(self, round_: int) -> Run:
        if self.book is None:
            self.setup()
        wall, pss, rss = self.make(self.ws.root / "logs" / f"noop-{round_}.log")
        log = (self.ws.root / "logs" / f"noop-{round_}.log").read_text(encoding="utf-8")
        if log.count("up to date") < 3:
            raise BenchFailed(f"make book on unchanged inputs ran a step:\n{log[-3000:]}")
        pages, site = pages_and_site(self.book / "_build" / "html")
        return Run("noop", None, round_, wall, pss, rss, pages, site)

    def run_sphinx(self, round_: int) -> Run:
        if self.book is None:
            self.setup()
        command = [str(self.ws.venv / "bin" / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"]
        wall, pss, rss = measure(command, cwd=self.book, env=self.ws.env(self.book),
                                 log=self.ws.root / "logs" / f"noop-sphinx-{round_}.log")
        pages, site = pages_and_site(self.book / "_build" / "html")
        return Run("noop-sphinx", None, round_, wall, pss, rss, pages, site)


def synthetic_export(ws: Workspace, n: int) -> Path:
    """The synthetic wave of `n` respondents as a canonical responses.csv (generated once per benchmark)."""
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.validate import RESPONSES_FILE

    folder = ws.root / "waves" / f"n{n}" / SYNTH_WAVE  # the folder is named after the wave, as validation expects
    if not (folder / RESPONSES_FILE).is_file():
        codebook = load_codebook(ws.source / "data" / "codebook.yml")
        frame = synth.generate(codebook, n, seed=SEED, wave=SYNTH_WAVE)
        synth.write_wave(folder, frame, wave=SYNTH_WAVE, seed=SEED, codebook=codebook)
        del frame
    return folder / RESPONSES_FILE


def run_synth(ws: Workspace, n: int, round_: int) -> Run:
    export = synthetic_export(ws, n)
    book = ws.fresh_copy(f"synth-{n}")
    command = [ws.python, "-m", "kamsurvey", "wave", "--wave", SYNTH_WAVE, "--data", str(export), "--published", "2024-01-15"]
    wall, pss, rss = measure(command, cwd=book, env=ws.env(book), log=ws.root / "logs" / f"synth-{n}-{round_}.log")
    edition = book / build_site.SITE / build_site.EDITIONS_DIR / SYNTH_WAVE
    pages, site = pages_and_site(edition)
    parts = chapter_parts(edition)
    ws.discard(book)
    return Run("synth", n, round_, wall, pss, rss, pages, site, parts)


def run_validate(ws: Workspace, round_: int) -> Run:
    n = max(ws.sizes)
    folder = synthetic_export(ws, n).parent
    command = [ws.python, "-m", "kamsurvey", "validate", str(folder), "--codebook", str(ws.source / "data" / "codebook.yml")]
    wall, pss, rss = measure(command, cwd=ws.source, env=ws.env(ws.source), log=ws.root / "logs" / f"validate-{round_}.log")
    return Run("validate", n, round_, wall, pss, rss)


# --------------------------------------------------------------------------- results


@dataclass
class Summary:
    scenario: str
    n: int | None
    runs: list[Run]

    @property
    def key(self) -> str:
        return self.scenario if self.n is None or self.scenario != "synth" else f"synth-{self.n}"

    @property
    def walls(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def pss(self) -> float:
        return max(r.peak_pss_mb for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)

    @property
    def pages(self) -> dict[str, int]:
        return self.runs[-1].pages

    @property
    def site(self) -> int | None:
        return self.runs[-1].site_bytes

    @property
    def parts(self) -> dict[str, dict[str, int]]:
        return self.runs[-1].parts


def summarise(runs: list[Run]) -> list[Summary]:
    groups: dict[tuple[str, int | None], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.scenario, run.n), []).append(run)
    order = {name: i for i, name in enumerate(SCENARIOS)}
    return [Summary(s, n, rs) for (s, n), rs in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] or 0))]


def write_csv(path: Path, summaries: list[Summary]) -> None:
    chapters = sorted({name for s in summaries for name in s.pages})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["scenario", "n", "runs", "wall_median_s", "wall_min_s", "wall_max_s", "peak_pss_mb",
                         "peak_rss_mb", "site_bytes", *[f"page_{c}_bytes" for c in chapters]])
        for s in summaries:
            writer.writerow([s.key, s.n if s.n is not None else "", len(s.runs), f"{s.wall:.2f}", f"{min(s.walls):.2f}",
                             f"{max(s.walls):.2f}", f"{s.pss:.0f}", f"{s.rss:.0f}", s.site if s.site is not None else "",
                             *[s.pages.get(c, "") for c in chapters]])


def write_runs(path: Path, runs: list[Run]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["scenario", "n", "round", "wall_s", "peak_pss_mb", "peak_rss_mb", "site_bytes"])
        for r in runs:
            writer.writerow([r.scenario, r.n or "", r.round, f"{r.wall_s:.2f}", f"{r.peak_pss_mb:.0f}",
                             f"{r.peak_rss_mb:.0f}", r.site_bytes or ""])


def verdicts(summaries: list[Summary]) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, how, met) for each target the runs can judge."""
    by = {s.key: s for s in summaries}
    rows: list[tuple[str, str, str, bool | None]] = []
    if "ours" in by and "plain" in by:
        ratio = by["ours"].wall / by["plain"].wall
        rows.append((f"our end-to-end ≤ {TARGET_RATIO_PLAIN}× the plain path", f"{ratio:.2f}×",
                     f"{by['ours'].wall:.1f} s / {by['plain'].wall:.1f} s", ratio <= TARGET_RATIO_PLAIN))
    if "noop" in by:
        rows.append((f"no-op rebuild (`make book`) ≤ {TARGET_NOOP_S:.0f} s", f"{by['noop'].wall:.2f} s",
                     f"median of {len(by['noop'].runs)}", by["noop"].wall <= TARGET_NOOP_S))
    small, large = by.get("synth-112"), by.get(f"synth-{LARGE}")
    if small and large:
        ratio = large.wall / small.wall
        rows.append((f"n = 1,000,000 end to end ≤ {TARGET_RATIO_1M}× the n = 112 time", f"{ratio:.2f}×",
                     f"{large.wall:.1f} s / {small.wall:.1f} s", ratio <= TARGET_RATIO_1M))
    if large:
        rows.append((f"n = 1,000,000 peak memory ≤ {TARGET_MEMORY_MB / 1024:.0f} GB", f"{large.pss:.0f} MB",
                     f"PSS of the process tree (RSS sum {large.rss:.0f} MB)", large.pss <= TARGET_MEMORY_MB))
    synth = [s for s in summaries if s.scenario == "synth"]
    if small and len(synth) > 1:
        spread = 0.0
        for s in synth:
            spread = max(spread, abs(s.site / small.site - 1))
            for name, size in s.pages.items():
                if small.pages.get(name):
                    spread = max(spread, abs(size / small.pages[name] - 1))
        rows.append((f"page and site sizes within {TARGET_SIZE_SPREAD:.0%} of n = 112 at every n", f"{spread:.1%}",
                     "largest difference, any page or the site", spread <= TARGET_SIZE_SPREAD))
        larger = [s for s in synth if s.n and s.n > small.n]
        if len(larger) > 1:  # how sizes move once n is past the small-base effects (suppressed cells) of n = 112
            first = larger[0]
            growth = max(max(abs(s.site / first.site - 1), *(abs(size / first.pages[name] - 1)
                                                              for name, size in s.pages.items() if first.pages.get(name)))
                         for s in larger)
            rows.append((f"(for reference) sizes from n = {first.n:,} to n = {larger[-1].n:,}", f"{growth:.1%}",
                         f"largest difference from n = {first.n:,}, any page or the site", None))
    if "validate" in by:
        v = by["validate"]
        rows.append((f"validation of {v.n:,} rows ≤ {TARGET_VALIDATE_S:.0f} s", f"{v.wall:.1f} s",
                     "kam validate, whole command", v.wall <= TARGET_VALIDATE_S))
    return rows


def markdown(summaries: list[Summary], command: str) -> str:
    by = {s.key: s for s in summaries}
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`  ",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "",
        "## Targets",
        "",
        "| Target | Measured | From | Met |",
        "|---|---|---|---|",
    ]
    for target, value, how, met in verdicts(summaries):
        lines.append(f"| {target} | {value} | {how} | {'—' if met is None else 'yes' if met else 'NO'} |")
    lines += ["", "## Time and memory", "",
              "| Scenario | n | Runs | Wall, median (min–max) | Peak memory, PSS (RSS sum) | Site bytes | Ratio |",
              "|---|---:|---:|---:|---:|---:|---|"]
    base = by.get("synth-112")
    for s in summaries:
        ratio = ""
        if s.key == "ours" and "plain" in by:
            ratio = f"{s.wall / by['plain'].wall:.2f}× plain"
        elif s.scenario == "synth" and base:
            ratio = f"time {s.wall / base.wall:.2f}×, site {s.site / base.site:.3f}× n = 112"
        n = f"{s.n:,}" if s.n else ""
        site = f"{s.site:,}" if s.site else ""
        lines.append(f"| {s.key} | {n} | {len(s.runs)} | {s.wall:.2f} s ({min(s.walls):.2f}–{max(s.walls):.2f}) | "
                     f"{s.pss:,.0f} MB ({s.rss:,.0f} MB) | {site} | {ratio} |")
    with_pages = [s for s in summaries if s.pages and s.scenario in ("ours", "plain", "synth")]
    if with_pages:
        chapters = sorted({name for s in with_pages for name in s.pages})
        lines += ["", "## Chapter page sizes (bytes)", "",
                  "| Page | " + " | ".join(s.key for s in with_pages) + (" | largest / smallest (synth) |" if base else " |"),
                  "|---|" + "---:|" * len(with_pages) + ("---:|" if base else "")]
        for name in chapters:
            sizes = [s.pages.get(name) for s in with_pages]
            row = f"| {name} | " + " | ".join(f"{v:,}" if v else "" for v in sizes) + " |"
            if base:
                synth = [s.pages[name] for s in with_pages if s.scenario == "synth" and s.pages.get(name)]
                row += f" {max(synth) / min(synth):.3f} |" if synth else " |"
            lines.append(row)
    lines += size_explanation(summaries)
    lines.append("")
    return "\n".join(lines)


PART_LABELS = {"chart_svg": "static charts (SVG)", "chart_spec": "chart specs (Vega-Lite JSON, aggregates)",
               "data_table": "data tables", "other": "everything else (text, navigation)"}


def size_explanation(summaries: list[Summary]) -> list[str]:
    """For each page whose size moves by more than the target between synthetic waves, where the bytes go:
    which parts of the page differ, with the marks its charts draw and the cells it suppresses."""
    synth = [s for s in summaries if s.scenario == "synth" and s.parts]
    if len(synth) < 2:
        return []
    lines: list[str] = []
    for name in sorted({page for s in synth for page in s.parts}):
        sizes = [s.pages[name] for s in synth if s.pages.get(name)]
        if not sizes or max(sizes) / min(sizes) - 1 <= TARGET_SIZE_SPREAD:
            continue
        if not lines:
            lines += ["", "## Where page sizes differ", "",
                      f"Pages whose size differs by more than {TARGET_SIZE_SPREAD:.0%} between synthetic waves, "
                      "by part of the page (bytes), with the marks the static charts draw and the data-table "
                      "cells suppressed ([c]: fewer than the minimum count, or revealing one)."]
        lines += ["", f"### {name}", "", "| Part | " + " | ".join(s.key for s in synth) + " |",
                  "|---|" + "---:|" * len(synth)]
        for part, label in [*PART_LABELS.items(), ("svg_marks", "marks drawn (SVG paths, lines, rects, texts)"),
                            ("suppressed_cells", "suppressed cells")]:
            lines.append(f"| {label} | " + " | ".join(f"{s.parts.get(name, {}).get(part, 0):,}" for s in synth) + " |")
    return lines


# --------------------------------------------------------------------------- main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), metavar="NAME",
                        help=f"which to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), metavar="N",
                        help="synthetic wave sizes (default: 112 10000 100000 1000000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each scenario; the median is reported (default 3)")
    parser.add_argument("--large-repeats", type=int, default=None,
                        help=f"runs of the waves of {LARGE:,} respondents or more (default: as --repeats)")
    parser.add_argument("--out", type=Path, default=OUT, help="where results go (default: _build/bench)")
    parser.add_argument("--keep", action="store_true", help="keep the copies and generated waves in <out>/work")
    parser.add_argument("--book", type=Path, default=Path("."), help="the checkout to measure (default: here)")


def command(args: argparse.Namespace) -> int:
    if args.repeats < 1 or (args.large_repeats is not None and args.large_repeats < 1):
        print("kam bench: error: repeats must be at least 1", file=sys.stderr)
        return 2
    large_repeats = args.large_repeats if args.large_repeats is not None else args.repeats
    out = args.out.resolve()
    ws = Workspace(out / "work", args.book.resolve())
    ws.sizes = sorted(set(args.sizes))
    ws.keep = args.keep
    if ws.root.exists():
        shutil.rmtree(ws.root)
    ws.root.mkdir(parents=True)
    invocation = "kam bench " + " ".join(sys.argv[2:])
    say(f"bench: preparing a copy of the book in {ws.root}")
    ws.prepare()
    noop = NoopBook(ws)
    runs: list[Run] = []
    rounds = max(args.repeats, large_repeats)
    try:
        for round_ in range(rounds):
            plan: list[tuple[str, object]] = []
            if round_ < args.repeats:
                plan += [(s, None) for s in args.scenarios if s not in ("synth", "validate")]
            if "synth" in args.scenarios:
                plan += [("synth", n) for n in ws.sizes if round_ < (large_repeats if n >= LARGE else args.repeats)]
            if "validate" in args.scenarios and round_ < (large_repeats if max(ws.sizes) >= LARGE else args.repeats):
                plan.append(("validate", None))
            for scenario, n in plan:
                label = f"{scenario}" + (f" n={n:,}" if n else "")
                say(f"bench: round {round_ + 1}/{rounds}: {label}")
                if scenario == "ours":
                    run = run_ours(ws, round_)
                elif scenario == "plain":
                    run = run_plain(ws, round_)
                elif scenario == "noop":
                    run = noop.run(round_)
                elif scenario == "noop-sphinx":
                    run = noop.run_sphinx(round_)
                elif scenario == "synth":
                    run = run_synth(ws, n, round_)
                else:
                    run = run_validate(ws, round_)
                say(f"       {run.wall_s:.2f} s, peak {run.peak_pss_mb:,.0f} MB (PSS), {run.peak_rss_mb:,.0f} MB (RSS sum)")
                runs.append(run)
    except BenchFailed as failure:
        print(f"bench: failed: {failure}", file=sys.stderr)
        return 1
    finally:
        summaries = summarise(runs)
        if runs:
            out.mkdir(parents=True, exist_ok=True)
            write_csv(out / "results.csv", summaries)
            write_runs(out / "runs.csv", runs)
            (out / "results.md").write_text(markdown(summaries, invocation.strip()), encoding="utf-8")
            (out / "runs.json").write_text(json.dumps([r.__dict__ for r in runs], indent=1), encoding="utf-8")
        if not args.keep:
            shutil.rmtree(ws.root, ignore_errors=True)
    if runs:
        say(f"bench: {out / 'results.csv'}, {out / 'results.md'}")
        print((out / "results.md").read_text(encoding="utf-8"))
    return 0
