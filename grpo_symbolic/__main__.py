"""``python -m grpo_symbolic``: the command line (see :mod:`grpo_symbolic.cli`)."""

from grpo_symbolic.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
