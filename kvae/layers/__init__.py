"""Layers shared by kvae's networks."""

from kvae.layers.dense import Dense
from kvae.layers.lstm import LSTM

__all__ = ["LSTM", "Dense"]
