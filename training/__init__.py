"""training package."""

__all__: list[str] = []
