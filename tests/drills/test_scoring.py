"""Scoring a drill: speed to acknowledge and contain, duties met or missed with their margins, steps on
time, late or skipped, scores per party and role, gaps, and a plan that carries open actions forward."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from breachops.deadlines.drill_record import ObligationRecord
from breachops.deadlines.improvement_plan import CorrectiveAction
from breachops.deadlines.scoring import DrillScore, score_drill
from tests.drills.samples import ANSWERS, END, OBLIGATIONS, STEPS, T0, at, record


def score(**changes: object) -> DrillScore:
    return score_drill(record(**changes))


def by_key(items, attr: str = "key"):  # type: ignore[no-untyped-def]
    return {getattr(item, attr): item for item in items}


# ---- speed ---------------------------------------------------------------------------------------


def test_time_to_acknowledge_is_t0_to_the_first_answer() -> None:
    assert score().time_to_acknowledge == timedelta(hours=1)


def test_nothing_answered_means_no_acknowledgement_and_a_gap() -> None:
    untouched = tuple(replace(s, completed_at=None, completed_by=None, status="pending") for s in STEPS)
    result = score(answers=(), steps=untouched)
    assert result.time_to_acknowledge is None
    assert result.time_to_contain is None
    gap = by_key(result.gaps)["slow_acknowledgement:acknowledgement"]
    assert gap.summary == "nobody answered during the drill"
    assert {s.result for s in result.steps} == {"skipped", "not_reached"}


def test_a_slow_first_answer_is_a_gap_against_the_configured_limit() -> None:
    late = score_drill(record(), acknowledge_within=timedelta(minutes=30))
    gap = by_key(late.gaps)["slow_acknowledgement:acknowledgement"]
    assert gap.by == timedelta(hours=1)
    assert "1 h after T+0 (expected within 30 min)" in gap.summary
    assert "slow_acknowledgement:acknowledgement" not in by_key(score().gaps)


def test_time_to_contain_waits_for_every_containment_step() -> None:
    assert score().time_to_contain == timedelta(hours=5)
    open_containment = tuple(
        replace(s, completed_at=None, status="waiting") if s.step_id == "preserve-evidence" else s
        for s in STEPS
    )
    assert score(steps=open_containment).time_to_contain is None


def test_work_after_the_end_does_not_count() -> None:
    after = tuple(
        replace(s, completed_at=END + timedelta(minutes=1)) if s.step_id == "freeze-access" else s
        for s in STEPS
    )
    answers = tuple(
        replace(a, at=END + timedelta(minutes=1)) if a.step_id == "freeze-access" else a for a in ANSWERS
    )
    result = score(steps=after, answers=answers)
    assert by_key(result.steps, "step_id")["freeze-access"].result == "skipped"
    assert result.time_to_contain is None
    assert result.time_to_acknowledge == timedelta(hours=3)  # the next answer, alert-counterparty-lead


def test_only_answers_acknowledge_not_steps_the_flow_completed() -> None:
    assert score(answers=()).time_to_acknowledge is None


# ---- obligations ---------------------------------------------------------------------------------


def test_obligations_met_missed_open_and_waived_with_margins() -> None:
    outcomes = by_key(score().obligations)
    counterparty = outcomes["tta-receiving-to-disclosing/initial"]
    assert (counterparty.status, counterparty.margin) == ("met", timedelta(hours=18))
    gdpr = outcomes["gdpr-art-33/initial"]
    assert (gdpr.status, gdpr.margin, gdpr.met_at) == ("missed", timedelta(0), None)
    lgpd = outcomes["lgpd-art-48/initial"]
    assert (lgpd.status, lgpd.margin) == ("open", timedelta(hours=48))
    assert outcomes["ccpa-1798-82/initial"].status == "waived"


def test_an_obligation_with_no_due_is_open_without_a_margin() -> None:
    sec = by_key(score().obligations)["sec-8k-105/initial"]
    assert (sec.status, sec.due, sec.margin) == ("open", None, None)
    met = score(obligations=(replace(OBLIGATIONS[3], met_at=at(10)),)).obligations[0]
    assert (met.status, met.margin) == ("met", None)


def test_an_obligation_met_late_is_missed_by_its_lateness() -> None:
    late = ObligationRecord("x/initial", "Notify", "regulator", "FR", "Art. 33", due=at(10), met_at=at(13))
    result = score(obligations=(late,))
    outcome = result.obligations[0]
    assert (outcome.status, outcome.margin) == ("missed", timedelta(hours=-3))
    assert "met 3 h late" in by_key(result.gaps)["missed_obligation:obligation:x/initial"].summary


def test_no_obligations() -> None:
    result = score(obligations=())
    assert result.obligations == ()
    assert not [g for g in result.gaps if g.kind == "missed_obligation"]
    assert result.obligation_count("met") == 0


# ---- steps and groups ----------------------------------------------------------------------------


def test_steps_on_time_late_skipped_and_not_reached() -> None:
    steps = by_key(score().steps, "step_id")
    assert {k: s.result for k, s in steps.items()} == {
        "freeze-access": "on_time",
        "preserve-evidence": "late",
        "alert-counterparty-lead": "on_time",
        "scope-disclosure": "on_time",
        "notify-regulators": "skipped",
        "lessons-learned": "not_reached",
    }
    assert steps["preserve-evidence"].margin == timedelta(hours=-1)
    assert steps["notify-regulators"].margin == timedelta(hours=-6)
    assert steps["freeze-access"].after_inject == timedelta(hours=1)
    assert steps["alert-counterparty-lead"].after_inject == timedelta(hours=1)
    assert steps["notify-regulators"].after_inject is None


def test_a_step_the_answers_made_moot_is_not_needed_not_held_against_anyone() -> None:
    # The flow skips a step only when the answers leave it nothing to do (services/moot_steps.py):
    # `material: no` leaves "Disclose a material incident" nothing to disclose. Owed by no one, it
    # is neither a score's miss nor a gap to correct.
    moot = tuple(replace(s, status="skipped") if s.step_id == "notify-regulators" else s for s in STEPS)
    before, after = score(), score(steps=moot)
    assert by_key(after.steps, "step_id")["notify-regulators"].result == "moot"
    assert (before.overall.skipped, before.overall.moot) == (1, 0)
    assert (after.overall.skipped, after.overall.moot) == (0, 1)
    assert after.overall.scored == before.overall.scored - 1
    assert "skipped_step:step:notify-regulators" in {g.key for g in before.gaps}
    assert not any("notify-regulators" in g.key for g in after.gaps)
    assert not any(a.subject == "step:notify-regulators" for a in after.plan)


def test_scores_per_party_count_both_for_each_party() -> None:
    parties = by_key(score().by_party)
    assert list(parties) == ["disclosing", "receiving"]
    disclosing, receiving = parties["disclosing"], parties["receiving"]
    assert (disclosing.on_time, disclosing.late, disclosing.skipped, disclosing.not_reached) == (0, 1, 1, 1)
    assert disclosing.share_on_time == 0.0
    assert (receiving.on_time, receiving.late, receiving.skipped) == (3, 1, 1)
    assert receiving.share_on_time == pytest.approx(0.6)


def test_scores_per_role() -> None:
    roles = by_key(score().by_role)
    assert list(roles) == ["dpo", "incident_lead", "security"]
    assert roles["security"].share_on_time == pytest.approx(2 / 3)
    assert roles["dpo"].share_on_time == 0.0
    assert roles["incident_lead"].share_on_time == 1.0  # lessons-learned was not yet owed


def test_a_group_with_nothing_owed_has_no_share() -> None:
    only_later = (STEPS[-1],)
    result = score(steps=only_later)
    assert result.overall.share_on_time is None
    assert result.overall.not_reached == 1


# ---- gaps and plan -------------------------------------------------------------------------------


def test_gaps_list_legal_exposure_first() -> None:
    gaps = score().gaps
    assert [g.key for g in gaps] == [
        "missed_obligation:obligation:gdpr-art-33/initial",
        "skipped_step:step:notify-regulators",
        "late_step:step:preserve-evidence",
    ]
    assert (gaps[0].owner_party, gaps[0].owner_role) == ("both", "dpo")
    assert gaps[2].by == timedelta(hours=1)
    assert gaps[2].summary == "'Preserve evidence on both sides' was done 1 h late"


def test_each_gap_gets_an_owned_action_due_after_the_drill() -> None:
    plan = score().plan
    assert [a.gap for a in plan] == [g.key for g in score().gaps]
    assert all(a.due == END + timedelta(days=30) for a in plan)
    assert all((a.status, a.carried_over, a.raised_in) == ("open", False, "DRILL-2026-0003") for a in plan)
    late = plan[2]
    assert (late.owner_party, late.owner_role) == ("both", "security")
    assert "preserve-evidence" in late.action and "1 h late" in late.action
    custom = score_drill(record(), actions_due_after=timedelta(days=14))
    assert custom.plan[0].due == END + timedelta(days=14)


def previous(subject: str, gap: str, status: str = "open") -> CorrectiveAction:
    return CorrectiveAction(
        action=f"Fix {subject}",
        owner_party="receiving",
        owner_role="security",
        due=T0 - timedelta(days=10),
        gap=gap,
        subject=subject,
        status=status,  # type: ignore[arg-type]
        raised_in="DRILL-2026-0001",
    )


def test_previous_actions_close_when_the_gap_is_gone_and_stay_open_otherwise() -> None:
    plan_before = [
        previous("step:freeze-access", "late_step:step:freeze-access"),
        previous("step:preserve-evidence", "skipped_step:step:preserve-evidence"),
        previous("step:call-insurer", "skipped_step:step:call-insurer"),
        previous("acknowledgement", "slow_acknowledgement:acknowledgement", status="closed"),
        previous("step:lessons-learned", "skipped_step:step:lessons-learned"),
    ]
    result = score_drill(record(), plan_before)
    carried = {a.subject: a for a in result.plan if a.carried_over}
    assert carried["step:freeze-access"].status == "closed"
    assert carried["step:freeze-access"].closed_in == "DRILL-2026-0003"
    still = carried["step:preserve-evidence"]
    assert (still.status, still.gap, still.due, still.raised_in) == (
        "open",
        "late_step:step:preserve-evidence",
        T0 - timedelta(days=10),
        "DRILL-2026-0001",
    )
    assert carried["step:call-insurer"].status == "open"  # not in this drill: cannot be judged
    assert carried["step:lessons-learned"].status == "open"  # not yet owed in this drill
    assert "acknowledgement" not in carried  # closed before: not carried again
    new_subjects = [a.subject for a in result.plan if not a.carried_over]
    assert new_subjects == ["obligation:gdpr-art-33/initial", "step:notify-regulators"]


def test_scoring_is_deterministic() -> None:
    plan_before = [previous("step:preserve-evidence", "late_step:step:preserve-evidence")]
    assert score_drill(record(), plan_before) == score_drill(record(), plan_before)
    shuffled = record(steps=tuple(reversed(STEPS)), obligations=tuple(reversed(OBLIGATIONS)))
    assert score_drill(shuffled).gaps == score().gaps
    assert score_drill(shuffled).by_party == score().by_party


# ---- bad input -----------------------------------------------------------------------------------


def test_naive_instants_are_refused_naming_the_field() -> None:
    naive = replace(STEPS[0], due=datetime(2026, 3, 2, 11, 0))
    with pytest.raises(ValueError, match=r"steps\[0\]\.due must be timezone-aware"):
        record(steps=(naive,))
    with pytest.raises(ValueError, match=r"drill\.t0 must be timezone-aware"):
        record(t0=datetime(2026, 3, 2, 9, 0))


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before t0"):
        record(ended_at=T0 - timedelta(hours=1))
