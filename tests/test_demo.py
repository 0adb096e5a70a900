"""`python -m kvae demo` (the README's first command) runs the quick start and prints what it promises: held-out
metrics with their scales, reconstructions beside their inputs, generated sentences and one interpolation with its
change points. A tiny run (1 epoch on 64 sentences, 40 test sentences) under every backend."""

import itertools
import re

from kvae import demo


def test_demo_prints_metrics_reconstructions_samples_and_an_interpolation(capsys):
    model = demo.main(["--epochs", "1", "--train-size", "64", "--test-size", "40", "--seed", "1"])
    out = capsys.readouterr().out
    held_out = re.search(
        r"held out: rec ([\d.]+)  KL ([\d.]+)  MI ([\d.]+) nats  active units (\d+)/16  BLEU-2 ([\d.]+) \(0-100\)", out
    )
    assert held_out, out
    rec, kl, mi, au, bleu = map(float, held_out.groups())
    assert rec > 0 and kl >= 0 and 0 <= mi <= 40 and 0 <= au <= 16 and 0 <= bleu <= 100
    assert re.search(r"distinct: \d+% of 40 reconstructions, \d+% of 50 generated sentences", out)
    # Five inputs, each followed by its reconstruction.
    section = out.split("reconstructions (greedy")[1].split("generated from the prior")[0]
    assert section.count("->") == 5
    samples = out.split("generated from the prior")[1].split("interpolation from")[0].strip().splitlines()[1:]
    assert len(samples) == 5
    steps = out.split("interpolation from")[1].strip().splitlines()[1:]
    assert [line.split()[0] for line in steps] == [f"{t / 10:.1f}" for t in range(11)]
    changes = [line[6:7] == "*" for line in steps]
    assert changes[0]  # the first sentence is always new
    sentences = [line[8:] for line in steps]
    # A '*' exactly where the sentence differs from the previous step.
    assert changes[1:] == [a != b for a, b in itertools.pairwise(sentences)]
    assert model.latent_dim == 16
