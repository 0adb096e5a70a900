"""Encoders: inputs -> features that a posterior layer maps to q(z|x)."""

from kvae.encoders.conv_encoder import ConvEncoder
from kvae.encoders.mlp_encoder import MLPEncoder
from kvae.encoders.lstm_encoder import LSTMEncoder

__all__ = ["LSTMEncoder", "ConvEncoder", "MLPEncoder"]
