"""The synthetic wave generator: valid whatever the seed and size, reproducible, and different from seed to seed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import DATA
from kamsurvey.analysis import tabulate
from kamsurvey.data.codebook import codebook_from_mapping, load_codebook
from kamsurvey.data.importer import import_responses, responses_csv
from kamsurvey.data.validate import read_wave, typed_frame
from kamsurvey.data import synth
from wavekit import add_option



def write_wave(tmp_path, frame, wave="2023", seed=0):
    return synth.write_wave(tmp_path / wave, frame, wave=wave, seed=seed, codebook=load_codebook(DATA / "codebook.yml"))


@pytest.mark.parametrize("n, seed, options", [
    (1, 1, {}),
    (7, 2, {"skip_rate": 0.5}),
    (150, 3, {}),
    (400, 4, {"omit": ["bonus_size"]}),
    (120, 5, {"pharma_share": 0.0}),
    (90, 6, {"omit": ["sector"]}),
    (3000, 7, {"skip_rate": 0.2}),
])
def test_every_generated_wave_passes_validation(tmp_path, codebook, n, seed, options):
    frame = synth.generate(codebook, n, seed=seed, wave="2023", **options)
    meta, typed = read_wave(write_wave(tmp_path, frame, seed=seed), codebook)  # raises listing every problem
    assert len(typed) == meta["n"] == n
    for question in options.get("omit", []):
        assert not tabulate.is_present(typed, codebook[question])
    if options.get("pharma_share") == 0.0:
        assert not typed["sector"].eq("pharma").any()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_answers(codebook):
    first = responses_csv(synth.generate(codebook, 300, seed=11, wave="2023"))
    assert responses_csv(synth.generate(codebook, 300, seed=11, wave="2023")) == first
    assert responses_csv(synth.generate(codebook, 300, seed=12, wave="2023")) != first


def test_seeds_draw_different_distributions(codebook):
    """Not the same shares with noise: each seed draws its own option shares and sector mix."""
    shares = []
    for seed in (1, 2, 3):
        frame = typed_frame(synth.generate(codebook, 4000, seed=seed, wave="2023"), codebook)
        shares.append([tabulate.share_of_respondents(frame, codebook["rewarded_with"], [c]).share
                       for c in codebook["rewarded_with"].codes()] + [frame["sector"].eq("pharma").mean()])
    differences = [max(abs(a - b) for a, b in zip(shares[i], shares[j])) for i in range(3) for j in range(i + 1, 3)]
    assert min(differences) > 0.1  # far beyond sampling noise at n = 4000 (about 0.02)


def test_one_seed_samples_the_same_distributions_at_any_size(codebook):
    """The benchmark compares waves of 112 to a million respondents: only n may differ, not the population."""
    def shares(n):
        frame = typed_frame(synth.generate(codebook, n, seed=1, wave="2023"), codebook)
        return [tabulate.share_of_respondents(frame, codebook[q], [c]).share
                for q in ("rewarded_with", "targets_set") for c in codebook[q].codes()] + [frame["sector"].eq("pharma").mean()]

    small, large = shares(20_000), shares(60_000)
    assert max(abs(a - b) for a, b in zip(small, large)) < 0.03  # sampling noise only (about 0.01 at these sizes)


def test_options_offered_from_a_later_wave_are_not_generated_before_it():
    text = add_option((DATA / "codebook.yml").read_text(encoding="utf-8"),
                      "      - {code: shares, label: Shares or share options, reconstructed: true}",
                      '- {code: profit_share, label: Profit share, since: "2023"}')
    import yaml

    codebook = codebook_from_mapping(yaml.safe_load(text))
    assert "rewarded_with__profit_share" not in synth.generate(codebook, 50, seed=1, wave="2022").columns
    later = synth.generate(codebook, 500, seed=1, wave="2023")
    assert later["rewarded_with__profit_share"].astype(str).eq("1").any()


def test_omitting_a_question_another_depends_on_is_refused(codebook):
    with pytest.raises(ValueError, match="bonus_size depends on rewarded_with"):
        synth.generate(codebook, 10, seed=0, omit=["rewarded_with"])
    with pytest.raises(ValueError, match="unknown questions"):
        synth.generate(codebook, 10, seed=0, omit=["no_such_question"])


def test_the_command_writes_an_export_the_importer_reads(tmp_path, codebook):
    out = tmp_path / "export.xlsx"
    result = subprocess.run([sys.executable, "-m", "kamsurvey", "synth", "--n", "40", "--seed", "3",
                             "--format", "labels-joined", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    imported = import_responses(out, codebook, "2023")
    assert responses_csv(imported.responses) == responses_csv(synth.generate(codebook, 40, seed=3, wave="2023"))


@pytest.mark.slow
def test_a_million_respondents_are_generated_written_and_validated_in_seconds(tmp_path):
    codebook = load_codebook(DATA / "codebook.yml")
    started = time.perf_counter()
    frame = synth.generate(codebook, 1_000_000, seed=1, wave="2023")
    folder = write_wave(tmp_path, frame, seed=1)
    generated = time.perf_counter() - started
    _, typed = read_wave(folder, codebook)
    assert len(typed) == 1_000_000
    assert generated < 60, f"generating and writing a million rows took {generated:.0f} s"
