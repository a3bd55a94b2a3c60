"""Would an int8 MiniLM make the embedding scorer faster without changing its verdicts? A probe, not
a harness option: it times the embedded all-MiniLM-L6-v2 in float32 (as the scorer runs it) against
a copy with torch's dynamic int8 quantization of every Linear layer, on the texts the embedding
scorer hands it, and compares what the scorer decides with each.

Usage: .venv/bin/python benchmarks/encoder_int8.py [XSUMFAITH_FILE] [--n 200]
Data: the first summary of each of the first N articles of ../shared/data/summac/xsumfaith_test.jsonl
(read at run time; the same texts as benchmarks/claim_scorers.py), with its human label. Each timing
starts from an empty embedding cache, models loaded before. It prints, for float32 and int8: the
encoder alone on every article and summary sentence, the scorer (`consistency_embedding`'s
`score_many`), the largest change of a summary's mean or weakest support score, how many summaries change verdict at
the configured threshold, and the balanced accuracy of those verdicts against the labels.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from claim_scorers import clear_caches, first_summaries, one_summary_options  # noqa: E402  (benchmarks/ is not a package)


def balanced_accuracy(predicted: list[bool], labels: list[bool]) -> float:
    """Mean of the recall of each class (a class with no example is left out)."""
    recalls = []
    for cls in (True, False):
        chosen = [p for p, y in zip(predicted, labels, strict=True) if y == cls]
        if chosen:
            recalls.append(sum(p == cls for p in chosen) / len(chosen))
    return sum(recalls) / len(recalls)


def main() -> None:
    options = one_summary_options(argparse.ArgumentParser(description=__doc__.split("\n")[0]))

    import torch

    from harness.config import load_metric
    from harness.metrics.consistency.base import article_text
    from harness.models.sentence_encoder import _LRU
    from harness.text.sentences import split_sentences

    chosen = first_summaries(options.data, options.n)
    pairs, labels = [pair for pair, _ in chosen], [label for _, label in chosen]
    texts = [article_text(a) for _, a in pairs] + [s for s, _ in pairs]
    sentences = list(dict.fromkeys(s for t in texts for s in split_sentences(t)))

    fp32 = load_metric("consistency_embedding")
    int8 = copy.copy(fp32)
    int8.encoder = copy.copy(fp32.encoder)
    int8.encoder._cache = _LRU(fp32.encoder._cache.maxsize)
    int8.encoder._model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32.encoder._model),
                                                                 {torch.nn.Linear}, dtype=torch.qint8)
    threshold = fp32.threshold
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), quantized engine "
          f"{torch.backends.quantized.engine}; {len(pairs)} articles, one summary each; {len(sentences):,} distinct "
          f"sentences; threshold {threshold}")
    results = {}
    for name, metric in (("float32", fp32), ("int8", int8)):
        metric.encoder.encode(["Warm up the encoder."])
        clear_caches(metric)
        start = time.perf_counter()
        metric.encoder.encode(sentences)
        encode_s = time.perf_counter() - start
        clear_caches(metric)
        start = time.perf_counter()
        scored = metric.score_many(pairs)
        score_s = time.perf_counter() - start
        results[name] = scored
        print(f"{name}: encoder alone {encode_s:.1f} s ({len(pairs) / encode_s:.1f} summaries/s); scorer "
              f"{score_s:.1f} s ({len(pairs) / score_s:.1f} summaries/s)")

    key = fp32.key

    def support(row: dict) -> list[float]:  # the summary's mean and weakest sentence support, unrounded
        return [row[f"score@{key}"], row[f"min@{key}"]]

    def consistent(row: dict) -> bool:
        return row[f"unsupported@{key}"] == 0

    largest = max(abs(a - b) for x, y in zip(results["float32"], results["int8"], strict=True)
                  for a, b in zip(support(x), support(y), strict=True))
    verdicts = {name: [consistent(r) for r in rs] for name, rs in results.items()}
    flipped = sum(a != b for a, b in zip(verdicts["float32"], verdicts["int8"], strict=True))
    print(f"largest change of a summary's mean or weakest support score: {largest:.4f}; "
          f"summaries whose verdict changes: {flipped} of {len(pairs)}")
    for name, predicted in verdicts.items():
        accuracy = balanced_accuracy(predicted, labels)
        print(f"{name}: balanced accuracy of the verdicts against the labels {accuracy:.3f}")


if __name__ == "__main__":
    main()
