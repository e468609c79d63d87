"""transfer_learning: frozen vs fine-tuned vs from-scratch ResNet-18s, with early stopping and a plateau scheduler."""
