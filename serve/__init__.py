"""serve package."""

__all__: list[str] = []
