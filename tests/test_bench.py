"""The benchmark's measuring parts (kambench.harness): the memory of a whole process tree, the ratios and
the verdicts on the targets, the install stamp it checks before running make in a copy."""

from __future__ import annotations

import subprocess
import sys

from kambench import harness as bench
from wavekit import ROOT


def test_peak_memory_counts_the_whole_process_tree(tmp_path):
    grandchild = "b = bytearray(300 * 2**20); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    wall, pss, rss = bench.measure([sys.executable, "-c", child], cwd=tmp_path, env=None, log=tmp_path / "log")
    assert wall >= 1.5
    assert 300 <= pss <= rss  # the grandchild's 300 MB, inside the child it was started by


def run(scenario, n, wall, pss=500.0, pages=None, site=1000):
    return bench.Run(scenario, n, 0, wall, pss, pss * 1.5, pages or {"a": 100, "b": 200}, site)


def test_ratios_and_targets():
    runs = [run("ours", 112, 20), run("ours", 112, 22), run("ours", 112, 90), run("plain", 112, 50),
            run("noop", None, 0.3), run("synth", 112, 25), run("synth", 1_000_000, 45, pss=2500, site=1040,
                                                                   pages={"a": 104, "b": 200}),
            run("validate", 1_000_000, 3.0)]
    summaries = bench.summarise(runs)
    assert [s.key for s in summaries] == ["ours", "plain", "noop", "synth-112", "synth-1000000", "validate"]
    assert summaries[0].wall == 22  # the median: one slow run does not move it
    verdicts = [(target, value, met) for target, value, _, met in bench.verdicts(summaries)]

    def verdict(words):
        (found,) = [(value, met) for target, value, met in verdicts if words in target]
        return found

    assert verdict("plain path") == ("0.44×", True)
    assert verdict("no-op") == ("0.30 s", True)
    assert verdict("end to end ≤ 2.0×") == ("1.80×", True)
    assert verdict("peak memory") == ("2500 MB", False)
    assert verdict("sizes") == ("4.0%", True)
    assert verdict("validation") == ("3.0 s", True)
    text = bench.markdown(summaries, "kam bench")
    assert "| n = 1,000,000 peak memory ≤ 2 GB | 2500 MB |" in text and "| NO |" in text
    assert "0.44× plain" in text and "time 1.80×, site 1.040× n = 112" in text


def test_results_files(tmp_path):
    summaries = bench.summarise([run("ours", 112, 20), run("plain", 112, 50)])
    bench.write_csv(tmp_path / "results.csv", summaries)
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert lines[0].startswith("scenario,n,runs,wall_median_s") and lines[0].endswith("page_a_bytes,page_b_bytes")
    assert lines[1].startswith("ours,112,1,20.00")


def test_the_install_stamp_is_the_makefiles():
    makefile = subprocess.run("cat requirements.txt pyproject.toml | sha256sum | cut -c1-12", shell=True, cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    assert bench.venv_stamp(ROOT, ROOT / ".venv").name == f".installed-{makefile}"


def test_help_lists_the_scenarios_and_options():
    result = subprocess.run([sys.executable, "-m", "kamsurvey", "bench", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for word in ("--repeats", "--large-repeats", "--scenarios", "--sizes", "plain", "noop", "synth", "proportional set size"):
        assert word in result.stdout


FIGURE = ('<figure><div class="kam-chart"><svg><path d="M0"/><text>40%</text></svg></div>'
          '<script type="application/json" class="kam-spec">{"data":{"values":[]}}</script>'
          '<table class="kam-data-table"><tr><td>[c]</td><td>8</td><td>[c]</td></tr></table></figure>')


def test_page_parts_add_up_and_count_marks_and_suppressed_cells():
    page = f"<html><p>Text</p>{FIGURE}{FIGURE}</html>"
    parts = bench.page_parts(page)
    assert parts["chart_svg"] == 2 * len('<svg><path d="M0"/><text>40%</text></svg>')
    assert parts["chart_svg"] + parts["chart_spec"] + parts["data_table"] + parts["other"] == len(page.encode())
    assert parts["svg_marks"] == 4 and parts["suppressed_cells"] == 4


def test_a_page_whose_size_moves_is_explained_part_by_part():
    small = bench.page_parts(f"<p>x</p>{FIGURE}")
    more_bars = FIGURE.replace("<svg>", "<svg>" + '<path d="M1"/>' * 20)
    large = bench.page_parts("<p>x</p>" + more_bars)
    runs = [bench.Run("synth", 112, 0, 20, 500, 600, {"p": 100}, 1000, {"p": small}),
            bench.Run("synth", 10_000, 0, 20, 500, 600, {"p": 120}, 1000, {"p": large})]
    text = "\n".join(bench.size_explanation(bench.summarise(runs)))
    assert "### p" in text and "| marks drawn (SVG paths, lines, rects, texts) | 2 | 22 |" in text
    steady = [bench.Run("synth", n, 0, 20, 500, 600, {"p": 100}, 1000, {"p": small}) for n in (112, 10_000)]
    assert bench.size_explanation(bench.summarise(steady)) == []
