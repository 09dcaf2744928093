"""`python -m server` runs the `kb` command (handy where the venv's bin is not on PATH)."""

from .cli import main

main()
