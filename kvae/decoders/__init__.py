"""Decoders: z -> logits of the likelihood p(x|z)."""

from kvae.decoders.conv_decoder import ConvDecoder
from kvae.decoders.mlp_decoder import MLPDecoder
from kvae.decoders.lstm_decoder import LSTMDecoder

__all__ = ["LSTMDecoder", "ConvDecoder", "MLPDecoder"]
