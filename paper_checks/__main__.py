"""``python -m paper_checks``: run the paper checks (see :mod:`paper_checks.runner`)."""

from paper_checks.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
