"""Fit the answerability judgement: `python -m bench.fit_answerability [--found 0.965]`.

Asks the SQuAD leave-out questions (bench.answerability) and the shared article dev sets, with
the cross-encoder reading every on-topic question, and fits on the EVEN SQuAD articles and the
dev sets only (their questions on topic, the only ones the judgement sees) the two logistic
regressions of the cascade (qa.answerable.Judge): the full model, over the search's features and
the reader's logit, its threshold set to keep `--found` of the even articles' covered questions
answered; and the screen, over the search's features alone, with the band of its probabilities
where the two disagree on those questions (there the reader runs). Writes qa/answerable.json: the
weights, the command, what it was fitted on and the figures it measured (even articles = fit,
odd articles = test, and the article's dev sets). The collected
features are kept under var/answerability/, named by a hash of the code that computes them, so
a refit with other settings asks nothing again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

import qa
from bench.answerability import (
    CACHE,
    Question,
    Results,
    cached_index,
    collect,
    figures,
    keep_threshold,
    parity,
    squad_leave_out,
)
from bench.common import SHARED
from qa.answerable import FEATURES, READER, WEIGHTS, Judge, Model, fit
from qa.config import PROJECT_ROOT, SETTINGS
from qa.engine import TOPIC_THRESHOLD

DEV_SETS = ("seed-dev.jsonl", "seed-dev-ontopic.jsonl", "seed-dev-paraphrase.jsonl")


def _blank(n: int) -> Model:
    return Model(np.zeros(n), np.ones(n), np.zeros(n), 0.0)


# Its band holds every probability, so the reader runs on every question on topic: the fit needs
# its logit everywhere. Any weights give the same features; these need no fit to exist yet.
_ALWAYS_READ = Judge(_blank(len(FEATURES)), _blank(len(FEATURES) + 1), 0.5, (-np.inf, np.inf))


def _code_key() -> str:
    """A hash of the code that computes features: collected ones are reused until it changes."""
    digest = hashlib.sha256()
    for name in ("answerable.py", "search.py", "lexical.py", "engine.py", "crossencoder.py", "crossencoder.onnx"):
        digest.update((PROJECT_ROOT / "qa" / name).read_bytes())
    return digest.hexdigest()[:16]


def article_questions() -> list[Question]:
    """The shared dev sets on the article, as leave-out questions (article -1: neither parity)."""
    out = []
    for name in DEV_SETS:
        for line in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                out.append(Question(q["question"], q["answers"], bool(q["answers"]), -1))
    return out


def _collect_cached(name: str, index: qa.Index, asked: list[Question]) -> Results:
    path = CACHE / f"features-{name}-{_code_key()}-{len(asked)}.npz"
    if path.exists():
        saved = np.load(path, allow_pickle=False)
        return Results(
            asked, *(saved[k] for k in ("features", "probability", "answered", "relevance", "cosine", "hit1"))
        )
    results = collect(index, asked, judge=_ALWAYS_READ, label=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, **{k: getattr(results, k) for k in ("features", "probability", "answered", "relevance", "cosine", "hit1")}
    )
    return results


def apply(judge: Judge, results: Results) -> Results:
    """`results` as the shipped engine would decide them with `judge` (the reader's logit kept
    only where the cascade would have run it)."""
    on_topic = results.relevance >= TOPIC_THRESHOLD
    verdicts = [
        judge.decide(x[:-1], lambda x=x: float(x[-1])) if on else None
        for x, on in zip(results.features, on_topic, strict=True)
    ]
    features = results.features.copy()
    features[:, -1] = [v.reader if v else np.nan for v in verdicts]
    return replace(
        results,
        features=features,
        probability=np.array([v.probability if v else 0.0 for v in verdicts]),
        answered=np.array([bool(v and v.answered) for v in verdicts]),
    )


def article_figures(results: Results) -> dict[str, float]:
    sets = {"seed-dev covered": [], "seed-dev uncovered": [], "ontopic": [], "paraphrase": []}
    # The dev files are read in DEV_SETS order; tell them apart by what they hold.
    counts = [sum(1 for line in (SHARED / "eval" / n).read_text().splitlines() if line.strip()) for n in DEV_SETS]
    for i, q in enumerate(results.questions):
        if i < counts[0]:
            sets["seed-dev covered" if q.covered else "seed-dev uncovered"].append(i)
        elif i < counts[0] + counts[1]:
            sets["ontopic"].append(i)
        else:
            sets["paraphrase"].append(i)
    answered = results.answered
    return {
        "seed_dev_found_covered": float(answered[sets["seed-dev covered"]].mean()),
        "seed_dev_rejected_off_topic": float(1 - answered[sets["seed-dev uncovered"]].mean()),
        "ontopic_rejected": float(1 - answered[sets["ontopic"]].mean()),
        "paraphrase_found": float(answered[sets["paraphrase"]].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Unseen articles keep about a point fewer than the fitted ones (0.96 on the even articles kept
    # 0.949 on the odd); 0.965 leaves the margin for the 0.95 target.
    parser.add_argument("--found", type=float, default=0.965, help="share of even covered questions to keep answered")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty on the standardised weights")
    parser.add_argument("--article-weight", type=float, default=0.2, help="share of the fit's weight on the dev sets")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()

    index, asked = squad_leave_out()
    squad = _collect_cached("squad", index, asked)
    article_index = qa.Index.load(cached_index(_corpus_documents(), "article"))
    article = _collect_cached("article", article_index, article_questions())
    even, odd = parity(squad, odd=False), parity(squad, odd=True)

    # Only questions on topic reach the judgement (under TOPIC_THRESHOLD a question is not covered).
    sources = [r.subset(r.relevance >= TOPIC_THRESHOLD) for r in (even, article)]
    x = np.vstack([r.features for r in sources])
    y = np.concatenate([r.covered for r in sources]).astype(np.float64)
    # Each class of each source carries equal weight within it, so the few uncovered questions
    # count as much as the many covered ones; the dev sets carry `--article-weight` of the total.
    weights = len(x) * np.concatenate(
        [_balanced(sources[0].covered) * (1 - args.article_weight), _balanced(sources[1].covered) * args.article_weight]
    )
    full = fit(x, y, weights, l2=args.l2)
    screen = fit(x[:, :-1], y, weights, l2=args.l2)
    threshold = keep_threshold(full.probability(sources[0].features[sources[0].covered]), args.found)
    # The band: the screen's probabilities where it and the full model disagree on these questions.
    says = full.probability(x) >= threshold
    screened = screen.probability(x[:, :-1])
    model = Judge(screen, full, threshold, (float(screened[says].min()), float(screened[~says].max())))

    measured = {
        "fit (even articles)": figures(apply(model, even), even),
        "test (odd articles)": figures(apply(model, odd), even),
        "article dev sets": article_figures(apply(model, article)),
    }
    command = "python -m bench.fit_answerability " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"
    )
    about = {
        "command": command,
        "fitted_on": (
            f"SQuAD leave-out even articles ({len(even.questions)} questions) and shared/eval {', '.join(DEV_SETS)}"
        ),
        "figures": measured,
    }
    args.out.write_text(json.dumps(model.to_json(**about), indent=1) + "\n", encoding="utf-8")
    for name, values in measured.items():
        print(name)
        for key, value in values.items():
            print(f"  {key:<28} {value:.3f}" if isinstance(value, float) else f"  {key:<28} {value}")
    print("full model's weights:", dict(zip((*FEATURES, READER), np.round(full.weights, 2), strict=True)))
    print(f"threshold {threshold:.3f}; the reader runs for screen probabilities in {model.band}")
    print(f"wrote {args.out}")


def _balanced(labels: np.ndarray) -> np.ndarray:
    """Weights summing to 1, each class carrying half."""
    out = np.empty(len(labels))
    for value in (True, False):
        mask = labels == value
        out[mask] = 1 / (2 * max(1, mask.sum()))
    return out


def _corpus_documents() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(SETTINGS.corpus_dir).iterdir()) if p.is_file()}


if __name__ == "__main__":
    main()
