"""Does the service tell a covered question from an on-topic uncovered one? `python -m bench.answerability`

The SQuAD leave-out benchmark (issue 10). From shared/bench/squad-dev-v1.1.jsonl, in file order,
each article withholds a fixed random 15% of its paragraphs (at least one; seed 0) and the rest
are indexed, one index for all 48 articles. Questions on kept paragraphs are covered; questions
on withheld paragraphs whose gold answers occur nowhere in the kept text are on-topic uncovered.
Articles at even positions may be used to fit (bench.fit_answerability); the figures printed are
those of the odd ones:

- what the reader is told (`outcomes`, also printed as a table): for covered questions the share
  shown a quote that holds the answer (the first passage holds a gold span), a quote that does
  not, "unsure", and "not answered" ("related" or "not_covered"); for uncovered ones the share
  shown a quote, "unsure" and "not answered". A false statement is a wrong quote or "not
  answered" for a covered question, and a quote for an uncovered one; "unsure" claims neither;
- found (covered), rejected (uncovered): the share "answered", and not, at the shipped setting;
- AUC: ROC AUC, covered against uncovered, of the score that decides (the judgement's
  probability, zero for a question under the topic threshold);
- AUC with the covered questions split by whether their first passage holds a gold answer (each
  part against all uncovered ones): the judgement reads the first passage, so where the search
  missed, a covered question looks uncovered;
- hit@1 (covered): the first passage holds a gold answer;
- reader ran (on topic): the share of questions on topic for which the judgement's cascade ran
  the cross-encoder (qa.answerable), which sets what a question costs;
- the same for the previous release (relevance >= 0.32 decides) and a dense-cosine threshold
  peer (LangChain's `similarity_score_threshold`, txtai's: the best passage's cosine, its
  threshold set to keep 95% of the even articles' covered questions).

The index is built once and kept under var/answerability/, named by a hash of what went in
(documents, model, splitter settings), so later runs and refits reuse it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

import qa
from bench.common import SHARED, contains_any, normalise, report
from bench.eval_squad import SQUAD, load_articles
from index import build
from qa.answerable import FEATURES, Judge
from qa.config import PROJECT_ROOT, SETTINGS
from qa.embed import model_id
from qa.engine import TOPIC_THRESHOLD
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE

CACHE = PROJECT_ROOT / "var" / "answerability"
SQUAD2 = SHARED / "bench" / "squad2-dev-even.jsonl"
SHARE, SEED = 0.15, 0


@dataclass(frozen=True)
class Question:
    text: str
    answers: list[str]
    covered: bool
    article: int  # position in the file: even ones fit, odd ones test


@dataclass
class Results:
    """Per question: the judgement's features and outcome, and what the baselines read."""

    questions: list[Question]
    features: np.ndarray
    probability: np.ndarray
    status: np.ndarray  # the shipped status (qa.types.STATUSES)
    relevance: np.ndarray  # Passage.similarity of the first passage (the previous release's score)
    cosine: np.ndarray  # the first passage's cosine (the dense-threshold peer's score)
    hit1: np.ndarray
    teaser_lacks: np.ndarray  # the first passage is a teaser lacking a word asked (Judge.decide)
    mentions_only: np.ndarray  # the first passage only mentions what is asked about (Judge.decide)

    ARRAYS = ("features", "probability", "status", "relevance", "cosine", "hit1", "teaser_lacks", "mentions_only")

    @property
    def unquotable(self) -> np.ndarray:
        """Whose first passage cannot be quoted as the answer, whatever the judgement (Judge.decide)."""
        return self.teaser_lacks | self.mentions_only

    def subset(self, keep: np.ndarray) -> Results:
        return Results(
            [q for q, k in zip(self.questions, keep, strict=True) if k], *(getattr(self, n)[keep] for n in self.ARRAYS)
        )

    @property
    def answered(self) -> np.ndarray:
        return self.status == ANSWERED

    @property
    def covered(self) -> np.ndarray:
        return np.array([q.covered for q in self.questions], dtype=bool)

    @property
    def score(self) -> np.ndarray:
        """The score that decides "answered": the probability, zero when off topic."""
        return np.where(self.relevance >= TOPIC_THRESHOLD, self.probability, 0.0)


def leave_out(articles: list[dict], share: float = SHARE, seed: int = SEED) -> list[set[int]]:
    """For each article in file order, the paragraphs withheld from the index."""
    rng = random.Random(seed)
    return [set(rng.sample(range(len(a["paragraphs"])), max(1, round(share * len(a["paragraphs"]))))) for a in articles]


def documents(articles: list[dict], withheld: list[set[int]]) -> dict[str, str]:
    """One text document per article: its title line, then its kept paragraphs."""
    return {
        f"{n:02d}-{a['title'][:40]}.txt": "\n\n".join(
            [a["title"].replace("_", " "), *(p for i, p in enumerate(a["paragraphs"]) if i not in out)]
        )
        + "\n"
        for n, (a, out) in enumerate(zip(articles, withheld, strict=True))
    }


def questions(articles: list[dict], withheld: list[set[int]], kept_text: str) -> list[Question]:
    """Covered questions, and uncovered ones whose every gold answer is absent from `kept_text`.

    `kept_text` is normalised (bench.common.normalise), as the answers are before the test.
    """
    out = []
    for n, (article, gone) in enumerate(zip(articles, withheld, strict=True)):
        for q in article["qas"]:
            if q["paragraph"] not in gone:
                out.append(Question(q["question"], q["answers"], True, n))
            elif not any(normalise(answer) in kept_text for answer in q["answers"]):
                out.append(Question(q["question"], q["answers"], False, n))
    return out


def squad2_questions(articles: list[dict], withheld: list[set[int]], kept_text: str) -> list[Question]:
    """SQuAD 2.0's questions on the even articles (shared/bench/squad2-dev-even.jsonl), for fitting.

    An answerable question is covered when its paragraph is kept, uncovered when it is withheld and
    no gold answer is in `kept_text` (as `questions` decides); an unanswerable one, written to look
    answered by a kept paragraph, is uncovered. Its paragraph is found by text in the v1.1 article.
    """
    out = []
    for line in SQUAD2.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        article = json.loads(line)
        n = article["v1_position"]
        position = {text: i for i, text in enumerate(articles[n]["paragraphs"])}
        for q in article["qas"]:
            gone = position[article["paragraphs"][q["paragraph"]]] in withheld[n]
            if not q["answers"]:
                if not gone:
                    out.append(Question(q["question"], [], False, n))
            elif not gone:
                out.append(Question(q["question"], q["answers"], True, n))
            elif not any(normalise(answer) in kept_text for answer in q["answers"]):
                out.append(Question(q["question"], q["answers"], False, n))
    return out


def sample_covered(asked: list[Question], share: float, seed: int = SEED) -> list[Question]:
    """Every uncovered question and a fixed random `share` of the covered ones, in their order.

    Covered questions outnumber uncovered ones ten to one; a share of them measures the covered
    rates as well (4,000 questions give them to about a point) for a fraction of the asking.
    """
    if share >= 1:
        return list(asked)
    rng = random.Random(seed)
    return [q for q in asked if not q.covered or rng.random() < share]


def squad2_even() -> list[Question]:
    """`squad2_questions` on the leave-out index's articles."""
    articles = load_articles(SQUAD)
    withheld = leave_out(articles)
    return squad2_questions(articles, withheld, normalise("\n".join(documents(articles, withheld).values())))


def cached_index(docs: dict[str, str], name: str) -> Path:
    """An index of `docs`, built once under var/answerability/ and reused while nothing changed."""
    key = hashlib.sha256(
        json.dumps([docs, model_id(), SETTINGS.splitter_id()], sort_keys=True).encode("utf-8")
    ).hexdigest()[:16]
    folder = CACHE / f"{name}-{key}"
    out = folder / "index"
    if not (out / "manifest.json").exists():
        (folder / "docs").mkdir(parents=True, exist_ok=True)
        for file, text in docs.items():
            (folder / "docs" / file).write_text(text, encoding="utf-8")
        build([folder / "docs"], out)
    return out


def squad_leave_out() -> tuple[qa.Index, list[Question]]:
    """The leave-out index (built or reused) and its questions."""
    articles = load_articles(SQUAD)
    withheld = leave_out(articles)
    docs = documents(articles, withheld)
    path = cached_index(docs, "squad-leave-out")
    return qa.Index.load(path), questions(articles, withheld, normalise("\n".join(docs.values())))


def collect(index: qa.Index, asked: list[Question], judge: Judge | None = None, label: str = "") -> Results:
    """Ask every question (top passage only) and keep what the judgement and the baselines read."""
    rows = []
    for q in tqdm(asked, desc=f"asking {label}".strip(), unit="q", mininterval=2):
        j = index.judge(q.text, k=1, judge=judge)
        top = j.passages[0]
        hit = contains_any(top.text, q.answers)
        cosine = j.features[FEATURES.index("passage_cos")]
        rows.append((j.features, j.probability, j.status, top.similarity, cosine, hit, j.teaser_lacks, j.mentions_only))
    return Results(list(asked), *(np.array(column) for column in zip(*rows, strict=True)))


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC: the chance a positive scores above a negative (ties count half)."""
    pos, neg = score[positive], score[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    # Average ranks over ties.
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def keep_threshold(score: np.ndarray, share: float = 0.95) -> float:
    """The score threshold that keeps `share` of these (covered) questions."""
    return float(np.quantile(score, 1 - share))


def outcomes(results: Results) -> dict[str, float]:
    """What the reader is told, as shares of the covered and of the uncovered questions.

    A covered question gets a true statement when its quote holds the answer (the first passage
    holds a gold span) and a false one when the quote does not, or when it is told "not answered"
    ("related" or "not_covered"); "unsure" claims nothing either way. An uncovered question gets a
    false statement when a quote is shown as its answer.
    """
    covered, status, right = results.covered, results.status, results.hit1.astype(bool)
    quoted, unsure = status == ANSWERED, status == UNSURE
    refused = (status == RELATED) | (status == NOT_COVERED)

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return float(mask[of].mean()) if of.any() else float("nan")

    return {
        "covered_quote_right": share(quoted & right, covered),
        "covered_quote_wrong": share(quoted & ~right, covered),
        "covered_unsure": share(unsure, covered),
        "covered_not_answered": share(refused, covered),
        "covered_false": share((quoted & ~right) | refused, covered),
        "uncovered_quote": share(quoted, ~covered),
        "uncovered_unsure": share(unsure, ~covered),
        "uncovered_not_answered": share(refused, ~covered),
    }


def outcome_table(figures: dict[str, float], title: str) -> str:
    """`outcomes` as the issue's table: rows covered and uncovered, columns what the reader is told."""
    f = figures
    return "\n".join(
        [
            title,
            f"  {'':<11} {'quote, right':>12} {'quote, wrong':>12} {'unsure':>8} {'not answered':>12}",
            f"  {'covered':<11} {f['covered_quote_right']:>12.3f} {f['covered_quote_wrong']:>12.3f} "
            f"{f['covered_unsure']:>8.3f} {f['covered_not_answered']:>12.3f}",
            f"  {'uncovered':<11} {'-':>12} {f['uncovered_quote']:>12.3f} "
            f"{f['uncovered_unsure']:>8.3f} {f['uncovered_not_answered']:>12.3f}",
        ]
    )


def figures(results: Results, fit: Results) -> dict[str, float | int]:
    """The benchmark's figures on `results` (the odd articles); `fit` sets the peer's threshold."""
    covered = results.covered
    right = results.hit1.astype(bool) & covered
    on_topic = results.relevance >= TOPIC_THRESHOLD
    peer = keep_threshold(fit.cosine[fit.covered])
    return {
        "covered": int(covered.sum()),
        "uncovered": int((~covered).sum()),
        **outcomes(results),
        "found_covered": float(results.answered[covered].mean()),
        "rejected_uncovered": float(1 - results.answered[~covered].mean()),
        "auc": auc(results.score, covered),
        # Where the gap is: a covered question whose first passage lacks the answer looks uncovered.
        "auc_first_passage_right": auc(results.score[right | ~covered], covered[right | ~covered]),
        "auc_first_passage_wrong": auc(results.score[~right], covered[~right]),
        "hit@1_covered": float(results.hit1[covered].mean()),
        # How often the cascade's reader ran (qa.answerable), of the questions on topic.
        "reader_ran_on_topic": float(np.isfinite(results.features[on_topic, -1]).mean()),
        "previous_found_covered": float((results.relevance[covered] >= TOPIC_THRESHOLD).mean()),
        "previous_rejected_uncovered": float((results.relevance[~covered] < TOPIC_THRESHOLD).mean()),
        "previous_auc": auc(results.relevance, covered),
        "dense_threshold": peer,
        "dense_found_covered": float((results.cosine[covered] >= peer).mean()),
        "dense_rejected_uncovered": float((results.cosine[~covered] < peer).mean()),
        "dense_auc": auc(results.cosine, covered),
    }


def parity(results: Results, odd: bool) -> Results:
    return results.subset(np.array([q.article % 2 == odd for q in results.questions], dtype=bool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    index, asked = squad_leave_out()
    results = collect(index, asked, label="SQuAD leave-out")
    measured = figures(parity(results, odd=True), parity(results, odd=False))
    report("SQuAD leave-out, odd articles (test)", {"passages": index.info.passages, **measured})
    print()
    print(outcome_table(measured, "What the reader is told, SQuAD leave-out, odd articles (shares of each row)"))


if __name__ == "__main__":
    main()
