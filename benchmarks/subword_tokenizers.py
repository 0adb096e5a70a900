"""Word vs WordPiece vs SentencePiece vocabularies: the default TextVAE on SNLI with each tokenizer (issue 18).

    KERAS_BACKEND=torch python benchmarks/subword_tokenizers.py --epochs 5

Trains on the first 9,000 sentences of /work/shared/data/snli/snli.valid.txt and tests on the last 1,000 (the file
carries 923 literal `<unk>` marks, kept: every tokenizer reads them as `<unk>`). Same model, seed, epochs and batch
for each tokenizer; the subword vocabularies are learnt from the training sentences on the first `fit`
(`--subword-vocabulary` tokens at most). Reported on the test sentences: the share of `<unk>` among the tokens of the
inputs and among the words of the greedy reconstructions, BLEU-2 of the reconstructions against the test sentences
(on detokenised words), the test loss terms (rec is nats per sentence over each tokenizer's own tokens: not
comparable across rows) and the vocabulary size. Writes a Markdown table to `--out`.
"""

import argparse
import os
import platform
import time

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "snli", "snli.valid.txt")


def unk_share(texts):
    """Share of the words of `texts` that hold `<unk>` (SentencePiece can mark one unknown character in a word)."""
    words = [w for t in texts for w in t.split()]
    return sum("<unk>" in w for w in words) / max(len(words), 1)


def run(kind, train, test, args):
    import keras

    import kvae

    keras.utils.set_random_seed(args.seed)
    vocabulary = {} if kind == "word" else {"max_vocabulary": args.subword_vocabulary}
    model = kvae.TextVAE(tokenizer=kind, seed=args.seed, **vocabulary)
    start = time.perf_counter()
    model.fit(train, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    seconds = time.perf_counter() - start
    tok = model.tokenizer
    ids = model.texts_to_ids(test)
    tokens = ids[(ids != tok.pad_id) & (ids != tok.bos_id) & (ids != tok.eos_id)]
    reconstructions = model.reconstruct(test)
    results = model.evaluate(test, batch_size=256, return_dict=True, verbose=0)
    return {
        "tokenizer": kind,
        "vocabulary": tok.vocabulary_size,
        "tokens/sentence": len(tokens) / len(test),
        "input <unk>": float((tokens == tok.unk_id).mean()),
        "reconstruction <unk>": unk_share(reconstructions),
        "bleu2": kvae.metrics.bleu(test, reconstructions, n=2),
        "rec": results["rec"],
        "kl": results["kl"],
        "train s": seconds,
        "example": (test[0], reconstructions[0]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--subword-vocabulary", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tokenizers", nargs="+", default=["word", "wordpiece", "sentencepiece"])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "tokenizers_cpu.md"))
    args = parser.parse_args()

    import keras

    with open(DATA, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    train, test = lines[:9000], lines[9000:10000]
    begin = time.perf_counter()
    rows = []
    for kind in args.tokenizers:
        rows.append(run(kind, train, test, args))
        print(rows[-1], flush=True)
    total = time.perf_counter() - begin
    table = [
        "| tokenizer | vocabulary | tokens / sentence | `<unk>` in inputs | `<unk>` in reconstructions | BLEU-2 | rec | KL "
        "| train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        table.append(
            f"| {r['tokenizer']} | {r['vocabulary']:,} | {r['tokens/sentence']:.1f} | {100 * r['input <unk>']:.2f}% "
            f"| {100 * r['reconstruction <unk>']:.2f}% | {r['bleu2']:.1f} | {r['rec']:.1f} | {r['kl']:.1f} "
            f"| {r['train s']:.0f} |"
        )
    examples = [f"- {r['tokenizer']}: `{r['example'][0]}` -> `{r['example'][1]}`" for r in rows]
    text = "\n".join(
        [
            "# Word vs WordPiece vs SentencePiece vocabularies (TextVAE defaults, SNLI)",
            "",
            f"`KERAS_BACKEND={keras.backend.backend()} python benchmarks/subword_tokenizers.py --epochs {args.epochs}` on "
            f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()} CPU ({os.cpu_count()} cores, shared), "
            f"{total:.0f} s in all.",
            "",
            f"Default `kvae.TextVAE` (embedding 50, LSTM 128, latent 16, DensityGap, word dropout 0.5, Adam 2e-3), "
            f"seed {args.seed}, {args.epochs} epochs of batch {args.batch_size} on the first 9,000 sentences of "
            f"snli.valid.txt, tested on the last 1,000. Word: `max_vocabulary` 20,000 (every training word); "
            f"subwords: `max_vocabulary` {args.subword_vocabulary:,}, learnt on the first `fit` (WordPiece's learner "
            "keeps pieces seen at least 10 times and SentencePiece lowers the size to what the corpus allows, so both "
            "come out smaller).",
            "",
            *table,
            "",
            "`<unk>` in inputs: share of the test sentences' tokens that are `<unk>` (the file's own 923 `<unk>` marks "
            "count for every tokenizer). `<unk>` in reconstructions: share of the words of the greedy reconstructions "
            "holding `<unk>`. BLEU-2 (0-100): greedy reconstructions against the test sentences, on detokenised "
            "words (WordPiece splits punctuation, so `'s` comes back as `' s`). rec: test reconstruction NLL in nats "
            "per sentence over the tokenizer's own tokens (not comparable across tokenizers); KL in nats.",
            "",
            "First test sentence and its reconstruction:",
            "",
            *examples,
            "",
        ]
    )
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
