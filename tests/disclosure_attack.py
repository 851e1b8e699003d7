"""The attacker: everything the book publishes about a question, read back as constraints on its cells.

For one question with a breakdown (by sector), the unknowns are its counts: each option in the whole
sample and in each sector (and, if some respondents gave no sector, in that unpublished group). The
attacker reads what the chapters published (`chapter_run.Published`) -- figure payloads (data table,
chart data: counts, shares, bar geometry, tooltip texts; alt text), glued numbers (with what each is of,
`Chapter.meanings`), the reproduction check's table (values, ranges and verdicts of the claims ledger)
-- turns every number into a linear constraint, with the rounding of every shown share as an interval
(a share shown as 6% means count/base in [5.5%, 6.5%]), and finds the smallest and largest value of
each withheld cell by integer programming (`scipy.optimize.milp`, HiGHS). It does not trust the
book's own model of what it withheld: withheld cells are those the data tables show as the mark, and
any number a chart or table carries for one is a leak in itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from kamsurvey.analysis import claims, policy
from kamsurvey.analysis.published import ALL, ALL_LABEL
from kamsurvey.data.codebook import Codebook, Question
from kamsurvey.report.chapter_claims import DIRECTION_ONLY, HOLDS_ANYWAY

MARK = policy.SUPPRESSED_MARK
PERCENT = re.compile(r"^(-?\d+(?:\.\d+)?)%$")
GROUP_LABEL = re.compile(r"^(?P<label>.+) \(n = (?P<n>\d+)\)$")
NUMERIC_FIELDS = ("count", "share", "ci_low", "ci_high", "start", "end")
TEXT_FIELDS = ("count_text", "share_label", "share_text", "interval")
AGREEMENT = {"agree": "agree", "neither agree nor disagree": "neutral", "disagree": "disagree"}

Cell = tuple[str, str]  # (option code, group code)

#: verdicts of the reproduction check that say a claim holds, as `claims.HOLDS` does
HOLDING_VERDICTS = {HOLDS_ANYWAY: claims.HOLDS, DIRECTION_ONLY: claims.HOLDS}


@dataclass
class Statement:
    """low <= sum(coefficient * cell) + constant <= high."""

    terms: dict
    low: float = -math.inf
    high: float = math.inf
    source: str = ""


@dataclass
class Knowledge:
    """Everything published about one question's cells."""

    question: Question
    groups: dict = field(default_factory=dict)  # group code -> respondents (base), ALL included
    mentions: dict = field(default_factory=dict)  # group code -> mentions, where published
    known: dict = field(default_factory=dict)  # cell -> count shown
    withheld: set = field(default_factory=set)  # cells shown as the mark
    statements: list = field(default_factory=list)
    orders: list = field(default_factory=list)  # (higher cells, lower cells): sum(higher) >= sum(lower)
    leaks: list = field(default_factory=list)  # a number published for a withheld cell
    sources: set = field(default_factory=set)

    # -- reading numbers ------------------------------------------------------------------------
    def codes(self, *, substantive: bool = False) -> list[str]:
        return self.question.substantive_codes() if substantive and self.question.is_multi else self.question.codes()

    def know(self, cell: Cell, value: int, source: str) -> None:
        if cell in self.withheld:
            self.leaks.append(f"{source}: count {value} of withheld {cell}")
        if cell in self.known and self.known[cell] != value:
            raise AssertionError(f"{source}: {cell} shown as {value} and as {self.known[cell]}")
        self.known[cell] = int(value)

    def rounded_share(self, cells: list[Cell], group: str, text, source: str, *, mentions: bool = False) -> None:
        """A share shown as text ('6.3%', '67%') of `cells` over the group's base (or mentions)."""
        match = PERCENT.match(str(text).strip())
        if not match:
            return
        shown = float(match.group(1))
        decimals = len(match.group(1).split(".")[1]) if "." in match.group(1) else 0
        half = 0.5 * 10 ** -decimals
        self.share_between(cells, group, (shown - half) / 100, (shown + half) / 100, source, mentions=mentions)

    def share_between(self, cells: list[Cell], group: str, low: float, high: float, source: str, *,
                      mentions: bool = False) -> None:
        """low <= sum(cells) / denominator <= high, the denominator the base or the group's mentions."""
        if mentions:
            denominator = {(code, group): 1.0 for code in self.codes(substantive=True)}
            for sign, bound in ((1.0, low), (-1.0, high)):
                terms = {cell: sign for cell in cells}
                for cell, one in denominator.items():
                    terms[cell] = terms.get(cell, 0.0) - sign * bound * one
                self.statements.append(Statement(terms, low=0.0, source=source))
            return
        base = self.groups.get(group)
        if base is None:
            return
        self.statements.append(Statement({cell: 1.0 for cell in cells}, low=low * base - 1e-9, high=high * base + 1e-9,
                                         source=source))

    def exact_sum(self, cells: list[Cell], value: int, source: str) -> None:
        if len(cells) == 1:
            self.know(cells[0], value, source)
        else:
            self.statements.append(Statement({cell: 1.0 for cell in cells}, low=value, high=value, source=source))

    def ranked(self, group: str, leaders: list[str], source: str, *, among: list[str] | None = None) -> None:
        """`leaders` are the largest options of the group, in this order (ties allowed)."""
        others = [c for c in (among or self.codes()) if c not in leaders]
        for higher, lower in zip(leaders, leaders[1:]):
            self.orders.append(([(higher, group)], [(lower, group)]))
        if leaders:
            for other in others:
                self.orders.append(([(leaders[-1], group)], [(other, group)]))
        self.sources.add(source)

    # -- the attack -----------------------------------------------------------------------------
    def attack(self) -> dict[Cell, tuple[int, int]]:
        """The smallest and largest value of every withheld cell, given everything published."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        groups = [g for g in self.groups if g != ALL]
        codes = self.codes()
        residual = self.groups[ALL] - sum(self.groups[g] for g in groups) if ALL in self.groups else 0
        columns = [ALL, *groups] + (["?"] if residual > 0 else [])
        bases = {**self.groups, "?": residual}
        cells = [(code, group) for group in columns for code in codes]
        index = {cell: k for k, cell in enumerate(cells)}
        rows, lower, upper = [], [], []

        def add(terms: dict, low: float, high: float) -> None:
            row = np.zeros(len(cells))
            for cell, coefficient in terms.items():
                row[index[cell]] += coefficient
            rows.append(row)
            lower.append(low)
            upper.append(high)

        for code in codes:  # the whole sample is the sum of the groups
            add({(code, ALL): 1.0, **{(code, g): -1.0 for g in columns[1:]}}, 0.0, 0.0)
        for group in columns:
            if not self.question.is_multi:
                add({(code, group): 1.0 for code in codes}, bases[group], bases[group])
            elif group in self.mentions:
                add({(code, group): 1.0 for code in self.codes(substantive=True)}, self.mentions[group], self.mentions[group])
            if self.question.is_multi:
                for exclusive in self.question.exclusive_codes():
                    for code in self.codes(substantive=True):
                        add({(exclusive, group): 1.0, (code, group): 1.0}, -np.inf, bases[group])
        for cell, value in self.known.items():
            add({cell: 1.0}, value, value)
        for statement in self.statements:
            add(statement.terms, statement.low, statement.high)
        for higher, lower_cells in self.orders:
            terms = {cell: 1.0 for cell in higher}
            for cell in lower_cells:
                terms[cell] = terms.get(cell, 0.0) - 1.0
            add(terms, 0.0, np.inf)
        constraint = LinearConstraint(np.array(rows), lower, upper)
        bounds = Bounds(np.zeros(len(cells)), np.array([float(bases[g]) for _, g in cells]))
        ranges = {}
        for cell in sorted(self.withheld):
            objective = np.zeros(len(cells))
            objective[index[cell]] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                result = milp(sign * objective, constraints=[constraint], bounds=bounds, integrality=np.ones(len(cells)))
                assert result.success, f"{self.question.id}: the published numbers admit no table ({result.message})"
                ends.append(int(round(sign * result.fun)))
            ranges[cell] = (ends[0], ends[1])
        return ranges


# -- reading the outputs ---------------------------------------------------------------------------


class Reader:
    """Turns one edition's published outputs into a `Knowledge` per question with a breakdown."""

    def __init__(self, codebook: Codebook, by: str, ledger: list[claims.Claim]):
        self.codebook = codebook
        self.by = by
        self.ledger = {claim.id: claim for claim in ledger}
        self.group_of = {option.label: option.code for option in codebook[by].options}
        self.group_of[ALL_LABEL] = ALL

    def knowledge(self, question_id: str, published: dict) -> Knowledge:
        question = self.codebook[question_id]
        k = Knowledge(question)
        payloads = [p for chapter in published.values() for p in chapter.figures.values()
                    if p.get("question") == question_id and "unavailable" not in p]
        for payload in payloads:  # every table first: it says which cells are withheld, and the bases
            self._table(k, payload)
        for payload in payloads:
            self._chart_data(k, payload)
            self._alt_text(k, payload)
        for chapter in published.values():
            meanings = chapter.chapter.meanings if chapter.chapter is not None else {}
            for name, meaning in meanings.items():
                if meaning.get("question") == question_id:
                    self._glued(k, name, meaning, chapter.glued, chapter.name)
            if chapter.claims is not None:
                self._claims(k, chapter.claims, chapter.name)
        return k

    # -- figures --------------------------------------------------------------------------------
    def _cell(self, k: Knowledge, option_label: str, group_label: str) -> Cell:
        code = next(o.code for o in k.question.options if o.label == option_label)
        return code, self.group_of[group_label]

    def _table(self, k: Knowledge, payload: dict) -> None:
        columns = payload["table"]["columns"]
        mentions = "Mentions (all options)" in columns
        for row in payload["table"]["rows"]:
            values = dict(zip(columns, row))
            cell = self._cell(k, values["Option"], values.get("Group", ALL_LABEL))
            if mentions:
                k.mentions[cell[1]] = int(values["Mentions (all options)"])
            else:
                k.groups[cell[1]] = int(values["Base (n)"])
            if values["Count"] == MARK:
                k.withheld.add(cell)
                if any(v not in (MARK, "") for c, v in values.items() if c not in ("Group", "Option", "Base (n)",
                                                                                   "Mentions (all options)")):
                    k.leaks.append(f"{payload['id']} table: {values}")
        k.sources.add(payload["id"])

    def _finish_table(self, k: Knowledge, payload: dict) -> None:
        columns = payload["table"]["columns"]
        mentions = "Mentions (all options)" in columns
        for row in payload["table"]["rows"]:
            values = dict(zip(columns, row))
            cell = self._cell(k, values["Option"], values.get("Group", ALL_LABEL))
            if values["Count"] != MARK:
                k.know(cell, int(values["Count"]), payload["id"])
                share = values.get("Share of mentions" if mentions else "Percentage")
                k.rounded_share([cell], cell[1], share, payload["id"], mentions=mentions)

    def _chart_data(self, k: Knowledge, payload: dict) -> None:
        self._finish_table(k, payload)
        mentions = "Mentions (all options)" in payload["table"]["columns"]
        for record in _records(payload["spec"]):
            if "code" not in record or "label" not in record:
                continue
            label = record.get("row") or record.get("group") or ""
            match = GROUP_LABEL.match(str(label))
            group = self.group_of[match.group("label")] if match else ALL
            cell = (record["code"], group)
            if cell in k.withheld:
                numbers = [f for f in NUMERIC_FIELDS if record.get(f) is not None]
                texts = [f for f in TEXT_FIELDS if record.get(f) not in (None, "", MARK)]
                if numbers or texts:
                    k.leaks.append(f"{payload['id']} chart data of withheld {cell}: {numbers + texts}")
                continue
            if record.get("count") is not None:
                k.know(cell, int(record["count"]), payload["id"] + " chart")
            share = record.get("share")
            if share is None and record.get("start") is not None and record.get("end") is not None:
                share = record["end"] - record["start"]
            if share is not None:
                k.share_between([cell], group, share - 1e-6, share + 1e-6, payload["id"] + " chart", mentions=mentions)
            for text_field in ("share_text", "share_label"):
                k.rounded_share([cell], group, record.get(text_field, ""), payload["id"] + " tooltip", mentions=mentions)

    def _alt_text(self, k: Knowledge, payload: dict) -> None:
        alt = payload["alt"]
        source = payload["id"] + " alt text"
        mentions = "Mentions (all options)" in payload["table"]["columns"]
        if ALL not in k.groups and (base := re.search(r"Base: (\d+) respondents", alt)):
            k.groups[ALL] = int(base.group(1))
        body = alt.split(". Base: ", 1)[1] if ". Base: " in alt else alt
        body = body.split(f" {MARK}: withheld")[0]
        if match := re.search(r"Largest: (.+)\.$", body):
            self._leaders(k, ALL, match.group(1), source, mentions)
        for segment in re.findall(r"(?:^|; |\. )([^;:.]+ \(n = \d+\)): ([^;]+)", body):
            name, items = segment
            group = self.group_of[GROUP_LABEL.match(name).group("label")]
            items = items.rstrip(".")
            if any(words in items for words in AGREEMENT):
                for item in items.split(", "):
                    shown, words = item.split(" ", 1)
                    codes = [o.code for o in k.question.options if o.group == AGREEMENT[words]]
                    k.rounded_share([(c, group) for c in codes], group, shown, source)
            else:
                self._leaders(k, group, items, source, mentions)

    def _leaders(self, k: Knowledge, group: str, items: str, source: str, mentions: bool) -> None:
        if items.strip() == MARK:
            return
        leaders = []
        for item in items.split(", "):
            label, shown = item.rsplit(" ", 1)
            cell = self._cell(k, label, next(lbl for lbl, code in self.group_of.items() if code == group))
            leaders.append(cell[0])
            k.rounded_share([cell], group, shown, source, mentions=mentions)
        among = k.codes(substantive=True) if mentions else k.codes()
        k.ranked(group, leaders, source, among=among)

    # -- glued numbers -------------------------------------------------------------------------
    def _glued(self, k: Knowledge, name: str, meaning: dict, glued: dict, chapter: str) -> None:
        source = f"{chapter}: {name}"
        kind = meaning["kind"]
        if kind == "share":
            group = meaning["group"]
            mentions = meaning["percent_of"] == "mentions" and k.question.is_multi
            cells = [(code, group) for code in meaning["codes"]]
            if k.question.is_multi and not mentions and len(cells) > 1:
                return  # respondents choosing any of several options: not a sum of cells
            k.rounded_share(cells, group, glued.get(f"{name}_pct"), source, mentions=mentions)
            if isinstance(glued.get(f"{name}_n"), int):
                k.exact_sum(cells, glued[f"{name}_n"], source)
            if mentions and isinstance(glued.get(f"{name}_base"), int):
                k.mentions[group] = glued[f"{name}_base"]
            if glued.get(f"{name}_fraction") == "none":
                k.exact_sum(cells, 0, source)
        elif kind == "mean":
            value = glued.get(name)
            if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value) and ALL in k.groups:
                half = 0.5 * 10 ** -meaning["digits"]
                cells = [(code, ALL) for code in k.codes(substantive=True)]
                base = k.groups[ALL]
                k.statements.append(Statement({c: 1.0 for c in cells}, low=(float(value) - half) * base - 1e-9,
                                              high=(float(value) + half) * base + 1e-9, source=source))
        elif kind == "ranking":
            k.ranked(ALL, list(meaning["order"]), source,
                     among=k.codes(substantive=True) if k.question.is_multi else k.codes())
        elif kind == "sector_test":
            cells = {g: [(code, g) for code in meaning["codes"]] for g in ("pharma", "other")}
            multi_several = k.question.is_multi and len(meaning["codes"]) > 1
            if not multi_several:
                for g in cells:
                    k.rounded_share(cells[g], g, glued.get(f"{name}_{g}_pct"), source)
                diff = re.match(r"^([+-]?\d+) percentage points?$", str(glued.get(f"{name}_diff", "")))
                if diff and "pharma" in k.groups and "other" in k.groups:
                    value = float(diff.group(1)) / 100
                    terms = {c: 1.0 / k.groups["pharma"] for c in cells["pharma"]}
                    for c in cells["other"]:
                        terms[c] = terms.get(c, 0.0) - 1.0 / k.groups["other"]
                    k.statements.append(Statement(terms, low=value - 0.005 - 1e-9, high=value + 0.005 + 1e-9, source=source))
        k.sources.add(source)

    # -- the reproduction check ------------------------------------------------------------------
    def _claims(self, k: Knowledge, table, chapter: str) -> None:
        for claim_id, row in table:
            claim = self.ledger[claim_id]
            if claim.question != k.question.id:
                continue
            source = f"{chapter}: claim {claim_id}"
            # "holds on any data" and "direction holds; not tested" say that the claim holds, as "holds" does
            verdict = HOLDING_VERDICTS.get(row["Verdict"], row["Verdict"])
            value = str(row["In this edition's data"])
            if verdict not in (claims.HOLDS, claims.DOES_NOT_HOLD):
                if MARK not in value and verdict != claims.CANNOT_COMPUTE:
                    k.leaks.append(f"{source}: verdict {verdict!r} with value {value!r}")
                continue
            group = self.group_of_within(claim.within)
            measure = claim.measure
            codes = _claim_codes(claim, k.question)
            counts = [(int(c), int(b)) for c, b in re.findall(r"\((\d+) of (\d+)(?: mentions)?\)", value)]
            mentions = measure == "share_of_mentions"
            if measure in ("share_of_respondents", "share_of_mentions"):
                if not (k.question.is_multi and not mentions and len(codes) > 1):
                    cells = [(c, group) for c in codes]
                    if counts:
                        k.exact_sum(cells, counts[0][0], source)
                    self._allowed(k, cells, group, claim.allowed, verdict == claims.HOLDS, source, mentions)
            elif measure == "share_difference":
                versus = dict(claim.versus or {})
                other = self.group_of_within(versus.get("within", claim.within))
                second = _claim_codes(versus if any(versus.get(s) is not None for s in claims.SELECTORS) else claim,
                                      k.question)
                if len(counts) == 2 and not (k.question.is_multi and max(len(codes), len(second)) > 1):
                    k.exact_sum([(c, group) for c in codes], counts[0][0], source)
                    k.exact_sum([(c, other) for c in second], counts[1][0], source)
            elif measure == "rank" and verdict == claims.HOLDS:
                for code, count in re.findall(r"(\w+) \((\d+)\)", value):
                    if code in k.codes() and not k.question.is_multi:
                        k.know((code, group), int(count), source)
            k.sources.add(source)

    def group_of_within(self, within) -> str:
        return (within or {}).get(self.by, ALL)

    def _allowed(self, k: Knowledge, cells, group, allowed: claims.Allowed, holds: bool, source: str,
                 mentions: bool) -> None:
        low = allowed.min if allowed.min is not None else allowed.min_exclusive
        high = allowed.max if allowed.max is not None else allowed.max_exclusive
        if holds:
            k.share_between(cells, group, low if low is not None else 0.0, high if high is not None else 1.0, source,
                            mentions=mentions)
        elif low is None and high is not None:
            k.share_between(cells, group, high, 1.0, source, mentions=mentions)
        elif high is None and low is not None:
            k.share_between(cells, group, 0.0, low, source, mentions=mentions)


def _claim_codes(claim_like, question: Question) -> list[str]:
    get = claim_like.get if isinstance(claim_like, dict) else lambda key: getattr(claim_like, key)
    if get("options_except") is not None:
        return [c for c in question.substantive_codes() if c not in set(get("options_except"))]
    if get("group") is not None:
        return question.codes_in_group(get("group"))
    return list(get("options") or [])


def _records(spec) -> list[dict]:
    """Every inline data row of a chart spec."""
    found, stack = [], [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("values"), list):
                found += [v for v in node["values"] if isinstance(v, dict)]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def is_protected(low: int, high: int) -> bool:
    """The policy's promise for a withheld count: at least three values, and not all under the threshold."""
    return high - low + 1 >= policy.MIN_VALUES and high >= policy.MIN_CELL
