"""The kernel server's warm-up (kamsurvey.build.warm) fills the one registry the lower layers read
(kamsurvey.data.waves.PRELOADED): a chapter loaded afterwards gets the preloaded wave, rows and claim
results, the same as it would compute, and computes afresh once a file it rests on has changed."""

from __future__ import annotations

import pytest

from kamsurvey.analysis import claims
from kamsurvey.build.warm import warm
from kamsurvey.data.waves import PRELOADED
from kamsurvey.report.chapter import Chapter
from wavekit import data_dir, write_synthetic_wave


@pytest.fixture()
def data(tmp_path):
    folder = data_dir(tmp_path)
    write_synthetic_wave(folder, "2023", n=300, seed=5)
    yield folder
    PRELOADED.clear()


def test_a_chapter_finds_what_the_warm_up_loaded(data):
    assert not PRELOADED.waves
    warm(wave="2023", data_dir="data", compare_with="2022", cwd=str(data.parent))
    assert len(PRELOADED.waves) == 2 and PRELOADED.claim_results
    assert {filters for _, filters in PRELOADED.subsets} >= {(("sector", "pharma"),), (("sector", "other"),)}

    ch = Chapter.load(wave="2023", data_dir=str(data), compare_with="2022")
    assert ch.wave.key is not None and ch.previous.key is not None
    key = ch.wave.key
    assert ch.subset({"sector": "pharma"}) is PRELOADED.subsets[(key, (("sector", "pharma"),))]
    ledger = claims.load_claims(data / "claims" / "2022.yml", ch.codebook)
    fresh = {c.id: claims.evaluate_claim(c, ch.frame, ch.codebook, ch.meta) for c in ledger}
    assert ch.computed_claim_results() == fresh
    assert ch.computed_claim_results() is not PRELOADED.claim_results[ch.claims_key()]  # each chapter its own dict


def test_a_changed_file_is_not_served_from_the_warm_up(data):
    warm(wave="2023", data_dir=str(data), compare_with="")
    ledger = data / "claims" / "2022.yml"
    ledger.write_text(ledger.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    ch = Chapter.load(wave="2023", data_dir=str(data))
    assert ch.wave.key is not None and ch.claims_key() not in PRELOADED.claim_results

    meta = data / "waves" / "2023" / "wave.yml"
    meta.write_text(meta.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert Chapter.load(wave="2023", data_dir=str(data)).wave.key is None
