"""`python -m forge`: the same command as `forge`."""

from .cli import main

if __name__ == "__main__":
    main()
