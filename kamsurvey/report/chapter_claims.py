"""The article's claims, re-tested on a chapter's wave: results, the reproduction-check table, withheld values.

The claims ledger (`data/claims/2022.yml`) is the 2022 article's; every edition re-tests it on
its own wave (`kamsurvey.analysis.claims`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from kamsurvey.analysis import claims, policy
from kamsurvey.data.waves import PRELOADED
from kamsurvey.report.chapter_data import SECTOR, SMALL_CELLS, ChapterData

CLAIMS_WAVE = "2022"


class ChapterClaims(ChapterData):
    """The claims concern of `kamsurvey.report.chapter.Chapter`."""

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "claims" / f"{CLAIMS_WAVE}.yml"

    def claims_key(self) -> tuple | None:
        """Identity of the claim results of a preloaded wave (`PRELOADED`): the wave's files and the ledger's bytes."""
        if self.wave.key is None:
            return None
        path = self.ledger_path.resolve()
        try:
            ledger = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        return (self.wave.key, str(path), ledger)

    def claim_results(self) -> dict[str, claims.ClaimResult]:
        if self._claims is None:
            key = self.claims_key()
            if key is not None and key in PRELOADED.claim_results:
                self._claims = dict(PRELOADED.claim_results[key])
                return self._claims
            ledger = claims.load_claims(self.ledger_path, self.codebook)
            self._claims = {
                claim.id: claims.evaluate_claim(claim, self.frame, self.codebook, self.meta, subsets=self.subset)
                for claim in ledger
            }
        return self._claims

    def claim_value_withheld(self, claim: claims.Claim) -> bool:
        """A sector-level claim whose value rests on a suppressed cell shows its verdict, not its value."""
        versus_within = (claim.versus or {}).get("within") or {}
        if SECTOR not in (claim.within or {}) and SECTOR not in versus_within:
            return False
        if claim.question is None or not self.asked(claim.question):
            return False
        question = self.question(claim.question)
        codes = list(claim.options or []) or (question.codes_in_group(claim.group) if claim.group else [])
        return bool(codes) and self.reveals_suppressed(claim.question, codes)

    def claims_table(self) -> pd.DataFrame:
        """The reproduction check: every claim of the article, its value in this wave and its verdict."""
        rows = []
        for result in self.claim_results().values():
            withheld = self.claim_value_withheld(result.claim)
            rows.append({
                "Section": result.claim.section,
                "The article's words": result.claim.article_words,
                "Computed from this wave": (f"{policy.SUPPRESSED_MARK} withheld ({SMALL_CELLS})"
                                            if withheld else result.value_text or result.reason),
                "The words allow": result.allowed_text,
                "Verdict": result.status,
            })
        return pd.DataFrame(rows)
