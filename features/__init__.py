"""features package."""

__all__: list[str] = []
