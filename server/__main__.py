"""`python -m server` runs the `kb` command (handy where the venv's bin is not on PATH)."""

from .cli import main

if __name__ == "__main__":  # not when a full build's worker processes import it
    main()
