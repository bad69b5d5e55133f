"""The README's generated sections: the list of checks (from the equation table and the claims) and
the numbers quoted in its findings (from a ``grpo-symbolic check --json`` report).

Each generated section sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``.
``python -m paper_checks.readme`` says whether README.md is up to date with the committed report
``docs/check-report.json``; ``--write`` rewrites the sections (after ``grpo-symbolic check --json
docs/check-report.json``).
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path
from typing import Any, Callable, Sequence

from grpo_symbolic.paper.equations import markdown

from paper_checks.claims import CLAIMS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REPORT = ROOT / "docs" / "check-report.json"
_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def checks_section() -> str:
    """How many claims the suite checks, by kind, and the equation table with each equation's checks."""
    beyond = [c for c in CLAIMS if c.id.startswith("x-")]
    slips = [c for c in CLAIMS if c.id.startswith("slip-")]
    paper = len(CLAIMS) - len(beyond) - len(slips)
    intro = (f"`grpo-symbolic check` runs one check per row of the project's claim list: the {paper} claims of "
             f"the paper (Sections 1–3, Appendices A–B, Figures 1–3), {len(beyond)} results beyond it (IDs `x-…`) "
             f"and {len(slips)} slips in the paper (IDs `slip-N`, see [docs/errata.md](docs/errata.md)). The "
             "equations they check, each with its LaTeX label, the derivation that produces it and the printed "
             "form it is compared with (`python -m grpo_symbolic.paper.equations --markdown`):")
    return textwrap.fill(intro, 100, break_on_hyphens=False) + "\n\n" + markdown([c.id for c in CLAIMS])


def _found(details: str, pattern: str) -> list[Any]:
    found = re.findall(pattern, details)
    if not found:
        raise ValueError(f"the report no longer says {pattern!r}: update paper_checks/readme.py")
    return found


def findings_section(report: Sequence[dict[str, Any]]) -> str:
    """The README's list of findings beyond the paper, with the numbers read from ``report``."""
    details = {row["id"]: row["details"] for row in report}

    def number(claim: str, pattern: str, form: Callable[[float], str]) -> str:
        return form(float(_found(details[claim], pattern)[0]))

    eps_shift = number("x-bessel-beta-eff", r"eps=1/10000: ([0-9.e+-]+)", lambda v: f"{v:.2f}")
    noisy = _found(details["x-stochastic-large-g"], r"noisy ([0-9.]+) vs \(15\)'s ([0-9.]+)")[0]
    rho_min = number("x-direct-kl-bistability", r"rho_min = [^;]*? = ([0-9.]+)", lambda v: f"{v:.4g}")
    counts = {int(G): _WORDS[len(re.findall(r"\('", found))] for G, found in _found(
        details["x-direct-kl-bistability"], r"finite G=(\d+), rho=1/2, beta=3: solver's stationary policies "
                                            r"\(pi\(a\), stable\) \[([^]]*)\]")}
    errors = [int(e) for e in _found(details["x-grpo-dynamics"], r"RLHF \(4\) \([^)]*\) at (\d+) SE")]
    (small, one), (large, three) = sorted(counts.items())
    return f"""What the suite found beyond the paper, in short (numbers from the committed report
[docs/check-report.json](docs/check-report.json), `python -m paper_checks.readme --write` after a new run):
- the multiplier λ = E_π[P_G] in (11) is identically 0 (advantages sum to zero in every group);
- for every G between 2 and ∞, the binary stationary π(a) lies between (14) and (15) and increases
  with G; its floor p_G(β) interpolates between 1 − β and 1/(1 + β²), and π_G − π_∞ = c/G + O(1/G²)
  with c = −√p/(4(√p + 2βρ√(1−p))) at p = π_∞(a);
- the trainers' Bessel std is the paper's model with β·√(G/(G−1)); eps is not (TRL's 1e-4 moves
  π* by {eps_shift} in an example whose rewards differ by 10⁻³);
- with reward noise (15) is no longer exact (at β = 0.04 the floor drops from {float(noisy[1]):.4f} to \
{float(noisy[0]):.4f} for
  Bernoulli 0.9/0.2 rewards);
- with the direct KL at large G, both zeros of h repel under best response for π_ref(a) < {rho_min}
  near β = 1, and at finite G the picture changes (G = {small}: {one} stationary policy; G = {large}: {three});
- the GRPO update itself (sampled groups, clipping, k3 penalty, tabular softmax) settles at the
  predicted policy and not at RLHF's log pooling, by {min(errors)} to {max(errors)} standard errors;
- a solution of (11) need not maximise J(·; π_old = π): notebook 03 shows one that is a saddle
  (the solver reports `is_local_maximum=False`), yet both the expected flow and sampled GRPO
  converge to it.
"""


def sections(report: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Every generated section of the README, by name."""
    return {"checks": checks_section(), "findings": findings_section(report)}


def render(readme: str, report: Sequence[dict[str, Any]]) -> str:
    """``readme`` with each generated section replaced by its text from ``report``."""
    for name, text in sections(report).items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        if not pattern.search(readme):
            raise ValueError(f"README has no generated section {name!r}")
        readme = pattern.sub(lambda m: m.group(1) + text + m.group(2), readme)
    return readme


def main(argv: Sequence[str] | None = None) -> int:
    """Check (or with ``--write`` rewrite) the README's generated sections; 1 if they are out of date."""
    parser = argparse.ArgumentParser(prog="python -m paper_checks.readme", description=main.__doc__)
    parser.add_argument("--report", type=Path, default=REPORT, help="a grpo-symbolic check --json report")
    parser.add_argument("--write", action="store_true", help="rewrite README.md")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current, json.loads(args.report.read_text(encoding="utf-8")))
    if args.write:
        README.write_text(wanted, encoding="utf-8")
        return 0
    print("README.md is up to date" if wanted == current else "README.md is out of date: run with --write")
    return int(wanted != current)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
