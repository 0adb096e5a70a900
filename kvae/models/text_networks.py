"""The encoder and decoder networks of a `TextVAE`, by architecture: "lstm" (Bowman et al., 2016, z concatenated to
every decoder input) or "transformer" (Optimus-style: z as cross-attention memory and/or added to the embeddings)."""

from kvae.checks import check_choice, check_int, check_number
from kvae.decoders import LSTMDecoder, TransformerDecoder
from kvae.decoders.transformer_decoder import INJECTIONS
from kvae.encoders import LSTMEncoder, TransformerEncoder

ARCHITECTURES = ("lstm", "transformer")
# `TextVAE(word_dropout=None)`: the LSTM needs word dropout to read z; the Transformer reconstructs best without it
# (benchmarks/results/text_architectures.md, rows tf-dg, tf-dg-wd0.25 and tf-dg-wd0.5).
DEFAULT_WORD_DROPOUT = {"lstm": 0.5, "transformer": 0.0}
DECODERS = ("lstm", "skip")


def transformer_options(num_layers=2, num_heads=4, intermediate_dim=None, dropout=0.1, injection="both"):
    """The Transformer's sizes, checked: a dict of the arguments (`intermediate_dim` None: 2 * hidden_dim)."""
    return {
        "num_layers": check_int(num_layers, "num_layers"),
        "num_heads": check_int(num_heads, "num_heads"),
        "intermediate_dim": check_int(intermediate_dim, "intermediate_dim", allow_none=True),
        "dropout": check_number(dropout, "dropout", low=0, high=1, high_open=True),
        "injection": check_choice(injection, "injection", INJECTIONS),
    }


def check_architecture(architecture, decoder, hidden_dim, num_heads):
    check_choice(architecture, "architecture", ARCHITECTURES)
    check_choice(decoder, "decoder", DECODERS)
    if architecture == "transformer":
        if decoder != "lstm":
            raise ValueError(f"`decoder={decoder!r}` applies to the LSTM architecture only.")
        if hidden_dim % num_heads:
            raise ValueError(f"`hidden_dim` ({hidden_dim}) must be divisible by `num_heads` ({num_heads}).")
    return architecture


def sequence_length(max_length):
    """Positions a Transformer learns: <bos>, `max_length` words, <eos>, rounded up to a multiple of 8 (compiled
    steps and likelihood estimates pad batches to multiples of 8)."""
    return -(-(max_length + 2) // 8) * 8


def text_networks(model, vocabulary_size, pad_id, unk_id):
    """(encoder, decoder) for the `TextVAE` `model`'s architecture and sizes."""
    seed = None if model.seed is None else model.seed + 3
    if model.architecture == "lstm":
        encoder = LSTMEncoder(vocabulary_size, model.embedding_dim, model.hidden_dim, pad_id=pad_id, name="encoder")
        decoder = LSTMDecoder(
            vocabulary_size,
            model.embedding_dim,
            model.hidden_dim,
            word_dropout=model.word_dropout,
            pad_id=pad_id,
            unk_id=unk_id,
            skip=model.decoder_type == "skip",
            seed=seed,
            name="decoder",
        )
        return encoder, decoder
    options = dict(model.transformer)
    injection = options.pop("injection")
    length = sequence_length(model.tokenizer.max_length or 64)
    encoder = TransformerEncoder(vocabulary_size, length, model.hidden_dim, pad_id=pad_id, name="encoder", **options)
    decoder = TransformerDecoder(
        vocabulary_size,
        length,
        model.hidden_dim,
        injection=injection,
        word_dropout=model.word_dropout,
        pad_id=pad_id,
        unk_id=unk_id,
        seed=seed,
        name="decoder",
        **options,
    )
    return encoder, decoder
