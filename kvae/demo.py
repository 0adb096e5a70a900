"""kvae's main job on its bundled default: the README's quick start, `TextVAE(posterior="isotropic")` with its
defaults fitted on 9,000 bundled SNLI sentences (10 epochs, batch 32), then scored on the 1,000 held out.

Run with `python -m kvae demo` (the README's first command). Prints the held-out reconstruction loss, KL, mutual
information I(x; z), active units and BLEU-2 (0-100) of greedy reconstructions, the share of distinct
reconstructions and of distinct generated sentences, five reconstructions beside their inputs, five sentences
generated from the prior and one interpolation (the points where the decoded sentence changes are marked `*`).
"""

import argparse
import time


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kvae demo", description=__doc__)
    parser.add_argument("--posterior", default="isotropic", help="isotropic | diagonal (default: isotropic)")
    parser.add_argument("--objective", default=None, help="an objective name (default: TextVAE's default)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default: 10)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--train-size", type=int, default=None, help="use only this many training sentences")
    parser.add_argument("--test-size", type=int, default=None, help="score only this many test sentences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    import kvae

    keras.utils.set_random_seed(args.seed)
    train, test = kvae.datasets.snli_sample()
    train, test = train[: args.train_size], test[: args.test_size]
    print(f"kvae demo: backend={keras.backend.backend()}, {len(train)} training / {len(test)} test SNLI sentences")
    options = {"objective": args.objective} if args.objective else {}
    model = kvae.TextVAE(posterior=args.posterior, seed=args.seed, **options)
    start = time.time()
    model.fit(train, epochs=args.epochs, batch_size=args.batch_size)
    seconds = time.time() - start
    results = model.evaluate(test, return_dict=True, verbose=0)
    mean, log_var = model.encode(test, return_log_var=True)
    recon = model.reconstruct(test)
    samples = model.generate(50)
    print(f"\ntrained in {seconds:.0f} s ({len(train) * args.epochs / seconds:.0f} sentences/s)")
    print(
        f"held out: rec {results['rec']:.2f}  KL {results['kl']:.2f}  "
        f"MI {kvae.metrics.mutual_information(mean, log_var):.2f} nats  "
        f"active units {kvae.metrics.active_units(mean)}/{model.latent_dim}  "
        f"BLEU-2 {kvae.metrics.bleu(test, recon, n=2):.1f} (0-100)"
    )
    print(
        f"distinct: {100 * len(set(recon[:500])) / len(recon[:500]):.0f}% of {len(recon[:500])} reconstructions, "
        f"{2 * len(set(samples))}% of 50 generated sentences"
    )
    print("\nreconstructions (greedy, from the posterior mean):")
    for source, target in zip(test[:5], recon[:5]):
        print(f"  {source}\n    -> {target}")
    print("\ngenerated from the prior (nucleus sampling, p=0.9):")
    for sentence in samples[:5]:
        print(f"  {sentence}")
    print(f"\ninterpolation from '{test[0]}' to '{test[1]}' (* where the sentence changes):")
    previous = None
    for t, sentence in zip(range(11), model.interpolate(test[0], test[1], steps=11)):
        print(f"  {t / 10:.1f} {'*' if sentence != previous else ' '} {sentence}")
        previous = sentence
    return model


if __name__ == "__main__":
    main()
