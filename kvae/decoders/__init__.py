"""Decoders: z -> logits of the likelihood p(x|z)."""

from kvae.decoders.conv_decoder import ConvDecoder
from kvae.decoders.lstm_decoder import LSTMDecoder
from kvae.decoders.mlp_decoder import MLPDecoder
from kvae.decoders.transformer_decoder import TransformerDecoder

__all__ = ["ConvDecoder", "LSTMDecoder", "MLPDecoder", "TransformerDecoder"]
