"""Objectives rated with HSEEP's four ratings (P/S/M/U) from the measures that observe them, an
evaluator's override standing over the computed rating, and the report's capability table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from breachops.deadlines.capability import RATING_RULE, Override, rate_objectives
from breachops.deadlines.scoring import score_drill
from breachops.reports.after_action import render_html, render_markdown
from tests.drills.samples import OBLIGATIONS, at, record, sample_report


@dataclass(frozen=True)
class Obj:
    id: str
    measured_by: tuple[str, ...]
    text: str = "An objective"
    capability: str = "Operational Coordination"
    target: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# In samples.record(): freeze-access and alert-counterparty-lead on time, preserve-evidence late,
# notify-regulators owed and never done, lessons-learned not yet owed; the licensee's notice met with
# time to spare, GDPR Art. 33 missed, LGPD still open at the end, CCPA waived.
CASES = {
    "all-on-time": (("step:freeze-access", "step:alert-counterparty-lead"), "P"),
    "one-late": (("step:freeze-access", "step:preserve-evidence"), "S"),
    "met-late-only": (("step:preserve-evidence",), "S"),
    "one-of-three": (("step:freeze-access", "step:notify-regulators", "obligation:gdpr-art-33"), "M"),
    "nothing-met": (("step:notify-regulators", "obligation:gdpr-art-33"), "U"),
    "duties-met-or-waived": (("obligation:tta-receiving-to-disclosing", "obligation:ccpa-1798-82"), "P"),
    "not-yet-owed": (("obligation:lgpd-art-48", "step:lessons-learned"), None),
    "free-text": ((), None),
}


def test_each_objective_is_rated_by_the_share_of_its_measures_met_and_on_time():
    score = score_drill(record())
    ratings = rate_objectives([Obj(k, m) for k, (m, _) in CASES.items()], score)
    assert {r.objective: r.computed for r in ratings} == {k: want for k, (_, want) in CASES.items()}


def test_a_duty_met_after_it_fell_due_counts_as_met_late_not_missed():
    late = replace(OBLIGATIONS[0], due=at(10), met_at=at(30))  # due T+10h, met T+30h
    score = score_drill(record(obligations=(late,)))
    assert score.obligations[0].status == "missed"  # what the scoring calls it
    (rating,) = rate_objectives([Obj("o", ("obligation:tta-receiving-to-disclosing",))], score)
    assert [m.status for m in rating.measures] == ["late"]
    assert rating.computed == "S"


def test_an_evaluators_rating_stands_over_the_computed_one_and_both_are_kept():
    override = Override("one-late", "P", "Evidence was preserved early on the other side.", "eva@x.example")
    (rating,) = rate_objectives(
        [Obj("one-late", CASES["one-late"][0])], score_drill(record()), {"one-late": override}
    )
    assert rating.computed == "S"
    assert rating.rating == "P"
    assert rating.override == override


def test_the_report_shows_a_capability_table_with_ratings_measures_overrides_and_the_rule():
    score = score_drill(record())
    ratings = rate_objectives(
        [Obj("contain", CASES["one-late"][0], text="Contain | quickly"), Obj("tell", ())],
        score,
        {"tell": Override("tell", "M", "The counterparty heard late <b>twice</b>.", "eva@x.example")},
    )
    report = sample_report(capabilities=ratings)
    md = render_markdown(report)  # type: ignore[arg-type]
    assert "## Objectives and capabilities" in md
    assert "| Contain \\| quickly (contain) | Operational Coordination |" in md
    assert "S — Performed with some challenges" in md
    assert "step:preserve-evidence (late)" in md
    assert "M — Performed with major challenges" in md
    assert "M by eva@x.example" in md and "(computed: —)" in md
    assert RATING_RULE.split(".")[0] in md
    html = render_html(report)  # type: ignore[arg-type]
    assert 'id="capabilities"' in html
    assert "&lt;b&gt;twice&lt;/b&gt;" in html and "<b>twice" not in html


def test_a_report_without_objectives_has_no_capability_table():
    md = render_markdown(sample_report())  # type: ignore[arg-type]
    assert "Objectives and capabilities" not in md


def test_a_question_measure_is_met_once_answered():
    score = score_drill(record())
    objectives = [Obj("talk", ("question:journalist-asks/q1", "step:freeze-access"))]
    (silent,) = rate_objectives(objectives, score)
    (answered,) = rate_objectives(objectives, score, answered={"journalist-asks/q1"})
    assert (silent.computed, answered.computed) == ("S", "P")
    assert [m.status for m in silent.measures] == ["missed", "on_time"]
