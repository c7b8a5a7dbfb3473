"""Fitting the judgement (bench.fit_answerability) on questions made here: the cuts meet their
targets on the questions they are set on, and the cascade it fits decides as its full model."""

from dataclasses import replace

import numpy as np
import pytest

from bench.answerability import Question, Results, outcomes
from bench.fit_answerability import apply, cuts, fit_judge
from qa.answerable import FEATURES
from qa.types import ANSWERED, RELATED, UNSURE


def made(n_covered: int, n_uncovered: int, seed: int = 0) -> Results:
    """Questions whose first feature and reader logit say, with noise, whether they are covered."""
    rng = np.random.default_rng(seed)
    covered = np.array([True] * n_covered + [False] * n_uncovered)
    x = rng.normal(size=(len(covered), len(FEATURES) + 1))
    x[:, 0] += 1.5 * covered
    x[:, -1] += 2.0 * covered  # the reader's logit: the stronger sign
    return Results(
        [Question(f"q{i}", ["a"] if c else [], bool(c), 0) for i, c in enumerate(covered)],
        features=x,
        probability=np.zeros(len(covered)),
        status=np.array([""] * len(covered)),
        relevance=np.ones(len(covered)),  # all on topic
        cosine=np.zeros(len(covered)),
        hit1=covered.copy(),  # every covered question's first passage holds its answer
        teaser_lacks=np.zeros(len(covered), dtype=bool),
        mentions_only=np.zeros(len(covered), dtype=bool),
    )


def test_the_cuts_meet_their_targets_on_the_questions_they_are_set_on():
    results = made(900, 300)
    probability = np.random.default_rng(1).uniform(size=900 + 300) * 0.5 + 0.5 * results.covered
    threshold, floor = cuts(results, probability, quote_uncovered=0.12, refuse_covered=0.03)
    covered = results.covered
    assert (probability[~covered] >= threshold).mean() <= 0.12
    assert (probability[covered] < floor).mean() <= 0.03
    assert floor <= threshold


@pytest.mark.parametrize(("quote_uncovered", "refuse_covered"), [(0.12, 0.03), (0.05, 0.01)])
def test_a_fitted_cascade_says_each_outcome_at_the_rates_it_was_fitted_for(quote_uncovered, refuse_covered):
    fitted = made(1200, 400)
    judge = fit_judge(
        fitted, [], quote_uncovered=quote_uncovered, refuse_covered=refuse_covered, l2=1.0, band_tolerance=0.01
    )
    told = outcomes(apply(judge, fitted))
    # The band lets the screen decide 1% of the fitted verdicts otherwise: a point of slack.
    assert told["uncovered_quote"] <= quote_uncovered + 0.01
    assert told["covered_not_answered"] <= refuse_covered + 0.01
    # On questions it has not seen, it still tells the two kinds apart, mostly by what it is sure of.
    fresh = apply(judge, made(600, 200, seed=2))
    said = outcomes(fresh)
    assert said["covered_quote_right"] > 0.5 and said["uncovered_not_answered"] > 0.4
    assert set(fresh.status) <= {ANSWERED, UNSURE, RELATED}


def test_questions_outside_the_band_are_decided_without_the_reader():
    fitted = made(1200, 400)
    judge = fit_judge(fitted, [], quote_uncovered=0.12, refuse_covered=0.03, l2=1.0, band_tolerance=0.01)
    decided = apply(judge, fitted)
    read = ~np.isnan(decided.features[:, -1])
    screen = judge.screen.probability(fitted.features[:, :-1])
    low, high = judge.band
    assert np.array_equal(read, (screen >= low) & (screen <= high))
    assert 0 < read.mean() < 1


def test_the_article_cross_validation_reports_each_weight_on_held_out_halves(capsys):
    from argparse import Namespace

    from bench.fit_answerability import article_cv, article_questions

    asked = article_questions()  # the shared dev sets, in their order
    rng = np.random.default_rng(3)
    covered = np.array([q.covered for q in asked])
    x = rng.normal(size=(len(asked), len(FEATURES) + 1))
    x[:, -1] += 2.0 * covered
    article = Results(
        asked,
        x,
        np.zeros(len(asked)),
        np.array([""] * len(asked)),
        np.ones(len(asked)),
        np.zeros(len(asked)),
        covered.copy(),
        np.zeros(len(asked), dtype=bool),
        np.zeros(len(asked), dtype=bool),
    )
    settings = Namespace(
        article_cv=[0.0, 0.2], squad2_weight=0.0, quote_uncovered=0.12, refuse_covered=0.03, l2=1.0, band_tolerance=0.01
    )
    article_cv(made(1200, 400), made(10, 10), article, settings, repeats=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("article dev sets, held-out halves (2 random 2-fold splits)")
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["article weight 0.0", "article weight 0.2"]
    assert all("seed_dev_covered_false" in line and "ontopic_quote" in line for line in lines[1:])
    with pytest.raises(ValueError, match="expected the dev sets' 59 questions"):
        article_cv(made(1200, 400), made(10, 10), made(5, 5), settings, repeats=1)


def test_the_frontier_moves_along_the_trade_off_the_targets_set(capsys):
    from argparse import Namespace

    from bench.fit_answerability import article_questions, frontier

    asked = article_questions()
    article = made(len(asked), 0)
    article = Results(asked, *(getattr(article, name) for name in Results.ARRAYS))
    settings = Namespace(frontier=([0.05, 0.2], [0.01, 0.05]), l2=1.0, band_tolerance=0.01)
    rows = frontier(made(1200, 400), made(600, 200, seed=2), [], article, settings)
    assert [(r["quote_uncovered"], r["refuse_covered"]) for r in rows] == [
        (0.05, 0.01),
        (0.05, 0.05),
        (0.2, 0.01),
        (0.2, 0.05),
    ]
    by = {(r["quote_uncovered"], r["refuse_covered"]): r for r in rows}
    # A lower threshold quotes more of both kinds; a higher floor refuses more and leaves fewer unsure.
    assert by[0.2, 0.01]["uncovered_quote"] > by[0.05, 0.01]["uncovered_quote"]
    assert by[0.2, 0.01]["covered_quote_right"] > by[0.05, 0.01]["covered_quote_right"]
    assert by[0.05, 0.05]["covered_not_answered"] > by[0.05, 0.01]["covered_not_answered"]
    assert by[0.05, 0.05]["covered_unsure"] < by[0.05, 0.01]["covered_unsure"]
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 + len(rows) and "on-topic quoted" in printed[-1]


def test_the_penalty_cross_validation_reports_each_penalty_on_held_out_articles(capsys):
    from argparse import Namespace

    from bench.fit_answerability import l2_cv

    made_here = made(1200, 400)
    # Six articles, so that halves of them can be fitted on and held out.
    asked = [Question(q.text, q.answers, q.covered, i % 6) for i, q in enumerate(made_here.questions)]
    even = Results(asked, *(getattr(made_here, name) for name in Results.ARRAYS))
    settings = Namespace(l2_cv=[1.0, 1000.0], quote_uncovered=0.12, refuse_covered=0.03, band_tolerance=0.01)
    l2_cv(even, [], settings, repeats=2)
    first = capsys.readouterr().out.splitlines()
    assert first[0] == "even articles, held-out halves (2 random 2-fold splits, quote target 0.12)"
    assert [line.split(":")[0].strip() for line in first[1:]] == ["l2 1", "l2 1000"]
    # Held-out articles are still told apart (AUC well above chance), and the splits are fixed.
    assert all(float(line.rsplit("AUC ", 1)[1]) > 0.8 for line in first[1:])
    l2_cv(even, [], settings, repeats=2)
    assert capsys.readouterr().out.splitlines() == first


@pytest.mark.parametrize("reason", ["teaser_lacks", "mentions_only"])
def test_the_fit_is_measured_as_the_service_says_it_an_unquotable_passage_is_never_quoted(reason: str):
    fitted = made(1200, 400)
    judge = fit_judge(fitted, [], quote_uncovered=0.12, refuse_covered=0.03, l2=1.0, band_tolerance=0.01)
    plain = apply(judge, fitted)
    lacking = apply(judge, replace(fitted, **{reason: np.ones(len(fitted.questions), dtype=bool)}))
    quoted = plain.status == ANSWERED
    assert quoted.any()
    assert (lacking.status[quoted] == UNSURE).all()
    assert np.array_equal(lacking.status[~quoted], plain.status[~quoted])


def test_refits_average_what_the_dev_sets_are_told_over_random_quarters(capsys):
    from argparse import Namespace

    from bench.fit_answerability import article_questions, refits

    asked = article_questions()
    article = made(len(asked), 0)
    article = Results(asked, *(getattr(article, name) for name in Results.ARRAYS))
    settings = Namespace(refits=3, quote_uncovered=0.12, refuse_covered=0.03, l2=1.0, band_tolerance=0.01)
    mean = refits(made(1200, 400), [], article, settings)
    assert 0 <= mean["ontopic_quote"] <= 1 and 0 <= mean["seed_dev_covered_quote_right"] <= 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "article dev sets, mean of 3 fits on random quarters of the even covered questions"
    assert "ontopic_quote" in printed[1]
    # Each fit draws another quarter: the same settings give the same draws, so the same mean.
    assert refits(made(1200, 400), [], article, settings) == mean
