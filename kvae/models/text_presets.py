"""Published TextVAE recipes, reachable by name through `TextVAE.from_preset`."""

PRESETS = {
    # The isotropic-posterior paper's SNLI recipe: embedding 50, LSTM 128, latent 8, Capacity(c=5) annealed over
    # 5,000 steps, Adam 5e-4, no word dropout (published for ~100k sentences, batch 128, 20 epochs).
    "snli": {
        "embedding_dim": 50,
        "hidden_dim": 128,
        "latent_dim": 8,
        "objective": {"name": "capacity", "c": 5.0, "anneal_steps": 5000},
        "learning_rate": 5e-4,
        "word_dropout": 0.0,
        "bow_weight": 0.0,
    },
    # Longer corpora (Yahoo, Yelp) in the posterior-collapse literature.
    "yahoo": {"embedding_dim": 200, "hidden_dim": 512, "latent_dim": 32},
    # The density-gap paper's text configuration: 128/512/32, DensityGap(samples=32).
    "density_gap": {
        "embedding_dim": 128,
        "hidden_dim": 512,
        "latent_dim": 32,
        "objective": {"name": "density_gap", "samples": 32},
        "word_dropout": 0.0,
        "bow_weight": 0.0,
    },
}
