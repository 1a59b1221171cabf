"""Allow ``python -m risk_engine``."""

from risk_engine.cli import main

main()
