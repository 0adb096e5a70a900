"""Encoders: inputs -> features that a posterior layer maps to q(z|x)."""

from kvae.encoders.conv_encoder import ConvEncoder
from kvae.encoders.lstm_encoder import LSTMEncoder
from kvae.encoders.mlp_encoder import MLPEncoder
from kvae.encoders.transformer_encoder import TransformerEncoder

__all__ = ["ConvEncoder", "LSTMEncoder", "MLPEncoder", "TransformerEncoder"]
