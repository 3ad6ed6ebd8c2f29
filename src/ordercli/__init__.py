"""ordercli: a command-line sandbox of a marketplace's order-cancellation lifecycle."""

__version__ = "0.1.0"
