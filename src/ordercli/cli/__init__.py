"""The Typer layer: each module parses, calls the core, renders."""
