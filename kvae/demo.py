"""kvae's main job on its bundled default: an isotropic TextVAE with the capacity objective on the SNLI sample.

Run with `python -m kvae demo` (the README's first command). Prints KL, active units, BLEU-2 of greedy test
reconstructions, three reconstructions, three sentences generated from the prior and one interpolation.
"""

import argparse
import time


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kvae demo", description=__doc__)
    parser.add_argument("--posterior", default="isotropic", help="isotropic | diagonal (default: isotropic)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default: 10)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--c", type=float, default=5.0, help="target KL of the capacity objective (default: 5)")
    parser.add_argument("--anneal-steps", type=int, default=1000, help="steps over which c rises (default: 1000)")
    parser.add_argument("--train-size", type=int, default=None, help="use only this many training sentences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    import kvae

    keras.utils.set_random_seed(args.seed)
    train, test = kvae.datasets.snli_sample()
    if args.train_size:
        train = train[: args.train_size]
    print(f"kvae demo: backend={keras.backend.backend()}, {len(train)} training / {len(test)} test SNLI sentences")
    model = kvae.TextVAE(
        posterior=args.posterior,
        objective=kvae.objectives.Capacity(c=args.c, anneal_steps=args.anneal_steps),
        seed=args.seed,
    )
    start = time.time()
    model.fit(train, epochs=args.epochs, batch_size=args.batch_size)
    seconds = time.time() - start
    results = model.evaluate(test, return_dict=True, verbose=0)
    means = model.encode(test)
    recon = model.reconstruct(test)
    bleu2 = kvae.metrics.bleu(test, recon, n=2)
    print(f"\ntrained in {seconds:.0f} s ({len(train) * args.epochs / seconds:.0f} sentences/s)")
    print(f"test: rec {results['rec']:.2f}  KL {results['kl']:.2f}  active units "
          f"{kvae.metrics.active_units(means)}/{model.latent_dim}  BLEU-2 {bleu2:.1f}")
    print("\nreconstructions (greedy, from the posterior mean):")
    for source, target in zip(test[:3], recon[:3]):
        print(f"  {source}\n    -> {target}")
    print("\ngenerated from the prior:")
    for sentence in model.generate(3):
        print(f"  {sentence}")
    print(f"\ninterpolation from '{test[0]}' to '{test[1]}':")
    for t, sentence in zip(range(0, 11, 2), model.interpolate(test[0], test[1], steps=6)):
        print(f"  {t / 10:.1f}  {sentence}")
    return model


if __name__ == "__main__":
    main()
