from .base import BaseLayer
from .distance import PairDistance
from .mid import MidLayer

__all__ = ["BaseLayer", "MidLayer", "PairDistance"]
