"""Layers shared by kvae's networks."""

from kvae.layers.lstm import LSTM

__all__ = ["LSTM"]
