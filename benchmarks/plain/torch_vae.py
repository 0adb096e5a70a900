"""kvae's TextVAE and ImageVAE as plain PyTorch modules with a minimal training step (no Keras, no kvae).

Same networks as kvae (isotropic posterior: a mean head and a 1-unit log-variance head broadcast to every unit):
- text: embedding -> LSTM over the tokens, state at the last real token -> posterior; decoder LSTM whose input is
  the previous word's embedding concatenated with z, initial state c0 = W z + b, h0 = tanh(c0); softmax over the
  vocabulary; reconstruction summed over the non-pad target tokens.
- image: 784-200-200 tanh encoder, 200-200-784 tanh decoder, Bernoulli likelihood summed over pixels.
Objectives: "elbo" (closed-form KL) or "density_gap" (marginal aggregated-posterior KL, `samples` draws).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2 * math.pi)


class TextVAE(nn.Module):
    def __init__(self, vocabulary_size, embedding_dim, hidden_dim, latent_dim, pad_id=0):
        super().__init__()
        self.pad_id = pad_id
        self.enc_embedding = nn.Embedding(vocabulary_size, embedding_dim)
        self.enc_lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True)
        self.mean = nn.Linear(hidden_dim, latent_dim)
        self.log_var = nn.Linear(hidden_dim, 1)
        self.dec_embedding = nn.Embedding(vocabulary_size, embedding_dim)
        self.initial_state = nn.Linear(latent_dim, hidden_dim)
        self.dec_lstm = nn.LSTM(embedding_dim + latent_dim, hidden_dim, batch_first=True)
        self.logits = nn.Linear(hidden_dim, vocabulary_size)

    def posterior(self, ids):
        states, _ = self.enc_lstm(self.enc_embedding(ids))  # (B, T, H), unmasked: right padding follows the sentence
        last = ((ids != self.pad_id).sum(1) - 1).clamp(min=0)
        features = states[torch.arange(ids.shape[0]), last]
        mean = self.mean(features)
        return mean, self.log_var(features).expand_as(mean)

    def reconstruction(self, ids, z):
        inputs, targets = ids[:, :-1], ids[:, 1:]
        steps = self.dec_embedding(inputs)
        x = torch.cat([steps, z[:, None, :].expand(-1, steps.shape[1], -1)], dim=-1)
        c0 = self.initial_state(z)
        hidden, _ = self.dec_lstm(x, (torch.tanh(c0)[None], c0[None]))
        logits = self.logits(hidden)  # (B, T, V)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        return (nll.view_as(targets) * (targets != self.pad_id)).sum(1)  # (B,)


class ImageVAE(nn.Module):
    def __init__(self, pixels=784, hidden=(200, 200), latent_dim=32):
        super().__init__()
        h1, h2 = hidden
        self.encoder = nn.Sequential(nn.Linear(pixels, h1), nn.Tanh(), nn.Linear(h1, h2), nn.Tanh())
        self.mean = nn.Linear(h2, latent_dim)
        self.log_var = nn.Linear(h2, 1)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, h2), nn.Tanh(), nn.Linear(h2, h1), nn.Tanh(), nn.Linear(h1, pixels)
        )

    def posterior(self, x):
        features = self.encoder(x.flatten(1))
        mean = self.mean(features)
        return mean, self.log_var(features).expand_as(mean)

    def reconstruction(self, x, z):
        x = x.flatten(1)
        return F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(1)


def gaussian_log_prob(z, mean, log_var):
    return -0.5 * (LOG_2PI + log_var + (z - mean) ** 2 * torch.exp(-log_var))


def density_gap(mean, log_var, samples):
    """Marginal KL(q_B(z_u) || p(z_u)) summed over units, q_B the batch's aggregated posterior, M draws per example."""
    z = mean + torch.exp(0.5 * log_var) * torch.randn((samples,) + mean.shape)  # (M, B, D)
    pairs = gaussian_log_prob(z[:, :, None, :], mean[None, None], log_var[None, None])  # (M, B_i, B_j, D)
    log_q = torch.logsumexp(pairs, dim=2) - math.log(mean.shape[0])  # (M, B, D)
    log_p = -0.5 * (LOG_2PI + z**2)
    return (log_q - log_p).sum(-1).mean()


def loss_fn(model, x, objective="elbo", samples=32):
    mean, log_var = model.posterior(x)
    z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
    rec = model.reconstruction(x, z).mean()
    if objective == "elbo":
        return rec + (0.5 * (mean**2 + log_var.exp() - log_var - 1)).sum(-1).mean()
    if objective == "density_gap":
        return rec + density_gap(mean, log_var, samples)
    raise ValueError(f"Unknown `objective` {objective!r}; expected 'elbo' or 'density_gap'.")


def make_trainer(kind, objective="elbo", samples=32, learning_rate=1e-3, seed=0, optimizer="adam", **sizes):
    """A `step(batch) -> loss` closure (NumPy batch in, Python float out) for a fresh model of `kind` ("text" or
    "image") trained with Adam or, as the density-gap reference code trains its text models, plain SGD."""
    torch.manual_seed(seed)
    model = TextVAE(**sizes) if kind == "text" else ImageVAE(**sizes)
    if optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def step(batch):
        x = torch.from_numpy(batch)
        x = x.long() if kind == "text" else x.float()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, x, objective, samples)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step
