"""Qt view-models (PySide6.QtCore only) between the services and the widgets."""
