"""The trained topic model: ``model.npz`` (written by ``make train-topics``), its training text and card."""
