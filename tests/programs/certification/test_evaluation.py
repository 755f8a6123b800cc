"""The certification against the test city's ground truth: every death among pensions in
payment found, none of the dead certified, and — the city leaving a record for 99 % of the
living — the data-certified rate within one point of that share."""

from __future__ import annotations

from shuhui.programs.certification.evaluation import evaluate
from shuhui.programs.evaluation import EVALUATORS, EvaluationContext
from shuhui.programs.evaluation import evaluate as evaluate_all
from tests.programs.certification.conftest import FIRST, Cert


def test_scores_against_the_truth(cert: Cert) -> None:
    assert "shuhui.programs.certification.evaluation:evaluate" in EVALUATORS
    core = cert.app.state.datacore
    scores = evaluate(EvaluationContext(core, FIRST))
    assert set(evaluate_all(EvaluationContext(core, FIRST))) >= set(scores)
    dead = scores["certification.deceased"]
    assert dead.true >= 1 and dead.precision >= 0.95 and dead.recall >= 0.95
    assert scores["certification.deceased_certified"].found == 0
    data = scores["certification.certified_by_data"]
    silent = scores["certification.undetermined"]
    living = data.true + silent.true  # living pensioners: with a record, and without
    assert living > 300
    with_record = data.true / living
    assert 0.97 <= with_record < 1.0  # the city: about 99 % leave a record
    assert abs(data.found / living - with_record) <= 0.01
    assert data.precision == 1.0  # nobody certified who left no record
    assert silent.recall == 1.0  # everyone without a record is left to certify
