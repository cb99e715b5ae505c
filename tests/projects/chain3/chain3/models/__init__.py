from .base import BaseModel
from .siamese import SiameseModel
from .trainer import TrainerModel

__all__ = ["BaseModel", "SiameseModel", "TrainerModel"]
