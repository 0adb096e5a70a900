"""Training sentences per second of the default TextVAE (small SNLI configuration, batch 32) on this backend.

    for b in tensorflow jax torch; do KERAS_BACKEND=$b python benchmarks/text_speed.py; done

One warm-up epoch (compilation) on 1,000 sentences, then `--epochs` timed epochs on the 9,000 training sentences of
the bundled SNLI sample; prints the median epoch rate. A first look only: the full comparison with hand-written
loops is `benchmarks/throughput.py` (speed issue).
"""

import argparse
import statistics
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import keras

    import kvae

    train, _ = kvae.datasets.snli_sample()
    model = kvae.TextVAE(seed=0)
    model.fit(train[:1000], epochs=1, batch_size=args.batch_size, verbose=0)
    rates = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(train, epochs=1, batch_size=args.batch_size, verbose=0)
        rates.append(len(train) / (time.perf_counter() - start))
    print(f"{keras.backend.backend()}: {statistics.median(rates):.0f} sentences/s "
          f"(epochs: {', '.join(f'{r:.0f}' for r in rates)}; batch {args.batch_size})")


if __name__ == "__main__":
    main()
