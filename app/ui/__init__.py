"""Qt Widgets views; they see view-models only."""
