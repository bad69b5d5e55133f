"""Every claim that ``paper_checks`` verifies: its ID, where it sits in the paper, and what it says.

The IDs are those of ``claims.md``; each must have exactly one registered check.  Locations refer
to Vojnovic & Yun, "What is the Alignment Objective of GRPO?" (arXiv 2502.18548 v3): sections,
equation numbers (1)–(19), figures and appendices.  IDs starting with ``x-`` are results beyond
the paper.  Statements are in our own words.

>>> CLAIMS_BY_ID["eq14-sqrt"].location
'Sec. 2.3.1, eq. (14)'
>>> len(CLAIMS) == len(CLAIMS_BY_ID)
True
"""

from __future__ import annotations

from dataclasses import dataclass

from grpo_symbolic.paper.equations import EQUATIONS


@dataclass(frozen=True)
class Claim:
    """One claim: ``id`` (as in claims.md), paper ``location``, one-line ``statement``.

    >>> CLAIMS_BY_ID["eq17"].equations
    ('eq17',)
    """

    id: str
    location: str
    statement: str

    @property
    def equations(self) -> tuple[str, ...]:
        """The keys of the equations this claim checks, read from the equation table."""
        return tuple(key for key, equation in EQUATIONS.items() if self.id in equation.claims)


def _claims(*rows: tuple[str, str, str]) -> tuple[Claim, ...]:
    return tuple(Claim(*row) for row in rows)


CLAIMS = _claims(
    # Section 1: setup
    ("adv-population-std", "Sec. 1, eq. (2)",
     "the advantage uses the population std, and is 0 when all rewards in the group are equal"),
    ("adv-pairwise-form", "Sec. 1, eq. (2)",
     "the advantage equals its pairwise-difference form with the 1/(2G^2) variance"),
    ("adv-invariance", "Sec. 1",
     "advantages do not change under r -> a r + b with a > 0"),
    ("rlhf-log-pooling", "Sec. 1, eqs. (3)-(4)",
     "(4) maximises the RLHF objective (3): log pooling of pi_ref and the Luce law with weights 1, 1/beta"),
    ("nlhf-fixed-point", "Sec. 1, eq. (5)",
     "the NLHF equilibrium satisfies pi ∝ pi_ref exp(E_{o'~pi} P(o > o') / beta)"),
    # Section 2.1: reward preference model
    ("eq6-reward-term", "Sec. 2.1, eq. (6)",
     "without clipping the reward term is E_{o~pi} P_G(o | pi_old)"),
    ("g2-sign", "Sec. 2.1",
     "for G = 2 the advantage A_1 is sign(r_1 - r_2)"),
    ("g2-pairwise", "Sec. 2.1",
     "R_2 = E[P(o > o') - P(o' > o)], and 2E[P] - 1 under antisymmetry with the diagonal/tie caveat"),
    ("large-g-limit", "Sec. 2.1",
     "P_G(o | pi) tends to (r(o) - E_pi r)/sigma(pi) as G -> inf, with error O(1/G)"),
    # Section 2.2: penalty
    ("eq7-kl0", "Sec. 2.2, eq. (7)",
     "the expected sampled penalty D equals KL0(pi || pi_ref; pi_old)"),
    ("kl0-unbiased-on-policy", "Sec. 2.2",
     "KL0(pi || pi_ref; pi) equals KL(pi || pi_ref)"),
    ("eq8-kl0-gradient", "Sec. 2.2, eq. (8)",
     "the gradient of KL0 in pi(o) is (8)"),
    ("eq9-kl-gradient", "Sec. 2.2, eq. (9)",
     "the gradient of KL(pi || pi_ref) in pi(o) is (9)"),
    ("eq10-on-policy-gradient", "Sec. 2.2, eq. (10)",
     "at pi_old = pi the KL0 gradient is (10), which is not (9)"),
    ("reverse-kl-gradient", "Sec. 2.2, eq. (10)",
     "(10) is the gradient of the reverse KL(pi_ref || pi) plus the constant 1"),
    # Section 2.3: stationary policies
    ("eq11-stationarity", "Sec. 2.3 and App. A, eq. (11)",
     "the KKT conditions of the per-context objective at pi_old = pi give (11), derived from J"),
    ("eq11-g-form", "Sec. 2.3, eq. (11)",
     "(11) is pi = g((P_G - E P_G)/beta) pi_ref with g(x) = 1/(1 - x), which is not log pooling"),
    ("eq11-bound", "Sec. 2.3, remark after (11)",
     "on the support, P_G(o | pi) < E_pi P_G + beta (a one-sided bound)"),
    ("zero-mean-identity", "Sec. 2.3, eq. (11) (notes slip 2)",
     "E_{o~pi} P_G(o | pi) = 0 identically, so the multiplier term in (11) vanishes"),
    ("eq12-g2", "Sec. 2.3, eq. (12)",
     "(11) specialised to G = 2 is (12)"),
    ("eq13-large-g", "Sec. 2.3, eq. (13)",
     "(11) in the limit G -> inf is (13); beta sigma(pi) acts as the effective regularisation"),
    ("app-a-multiplier", "App. A",
     "the Lagrange multiplier is lambda = E_pi P_G"),
    # Section 2.3.1 and Appendix B: binary questions
    ("eq16", "App. B.1, eq. (16)",
     "for G = 2 the binary reward term is gamma (p - p_o)"),
    ("eq17", "App. B.1, eq. (17)",
     "dJ/dp at p_o = p gives the stationarity condition (17)"),
    ("eq14-binary-g2", "Sec. 2.3.1, eq. (14)",
     "(14) is the only root in [0, 1] of the quadratic that (17) gives"),
    ("eq14-tie", "Sec. 2.3.1, eq. (14)",
     "with gamma = 0 the stationary policy is pi_ref"),
    ("eq14-ratio-only", "Sec. 2.3.1, eq. (14)",
     "(14) depends on beta and gamma only through beta/gamma"),
    ("eq14-monotone", "Sec. 2.3.1, eq. (14)",
     "(14) decreases in beta and increases in gamma and in pi_ref(a)"),
    ("eq14-limits", "Sec. 2.3.1, eq. (14)",
     "(14) tends to 1 as beta -> 0 and to pi_ref(a) as beta -> inf"),
    ("eq14-sqrt", "Sec. 2.3.1, eq. (14)",
     "with beta = gamma, pi(a) = sqrt(pi_ref(a))"),
    ("eq14-jump", "Sec. 2.3.1, eq. (14)",
     "as pi_ref(a) -> 0+ the limit is max(1 - beta/gamma, 0), a jump exactly when beta < gamma"),
    ("eq14-bound", "Sec. 2.3.1, eq. (14)",
     "pi(a) >= max{1 - beta/gamma, pi_ref(a)}"),
    ("eq14-rank-only", "Sec. 2.3.1",
     "with deterministic rewards gamma = 1 whatever the reward values (only their order counts)"),
    ("eq18", "App. B.1, eq. (18)",
     "the large-G binary reward term is (p - p_o) sign(r(a) - r(b)) / sqrt(p_o (1 - p_o))"),
    ("eq19", "App. B.1, eq. (19)",
     "large-G stationarity is (19), and squaring it gives the quadratic"),
    ("eq15-binary-large-g", "Sec. 2.3.1, eq. (15)",
     "(15) is the root of that quadratic admitted by (19), the one with p >= rho"),
    ("eq15-tie", "Sec. 2.3.1, eq. (15)",
     "with r(a) = r(b) the large-G stationary policy is pi_ref"),
    ("eq15-bound", "Sec. 2.3.1, eq. (15)",
     "pi(a) >= max{1/(1 + beta^2), pi_ref(a)}, with a jump at pi_ref(a) = 0 for every beta > 0"),
    ("eq15-vs-g2", "Sec. 2.3.1, eqs. (14)-(15)",
     "1/(1 + beta^2) > 1 - beta for every beta > 0"),
    ("trl-default-floors", "Sec. 2.3.1",
     "at beta = 0.04 the floors are 0.96 (G = 2) and 1/1.0016 (G -> inf)"),
    ("fig1", "Sec. 2.3.1, Fig. 1",
     "Figure 1 (G = 2, pi(a) against pi_ref(a) for several beta/gamma, dotted diagonal) is reproduced"),
    ("fig2", "Sec. 2.3.1, Fig. 2",
     "Figure 2 (the same for G -> inf) is reproduced"),
    ("fig3", "Sec. 3, Fig. 3",
     "Figure 3 (direct KL, G = 2, no jump at pi_ref(a) = 0) is reproduced"),
    # Section 3: extensions
    ("direct-kl-penalty", "Sec. 3",
     "the importance-weighted penalty has expectation exactly KL(pi || pi_ref)"),
    ("direct-kl-log-pooling", "Sec. 3",
     "with the direct penalty the stationary policy is pi ∝ pi_ref exp(P_G / beta)"),
    ("direct-kl-g2-binary", "Sec. 3 and App. B.2",
     "direct penalty, G = 2, binary: the Z formula, continuous at pi_ref(a) = 0"),
    ("direct-kl-large-g-h", "Sec. 3 and App. B.2",
     "direct penalty, G -> inf: h(x), its monotone pieces and x*; pi(a) = 1 for small beta, two zeros for large beta"),
    ("shift-only-reward-term", "Sec. 3",
     "shift-only advantages: E_{o~pi} P_G(o | pi_old) = (1 - 1/G)(E_pi r - E_{pi_old} r)"),
    ("shift-only-direct-kl-rlhf", "Sec. 3",
     "shift-only advantages with the direct penalty give the RLHF form with beta' = beta G/(G - 1)"),
    # Beyond the paper
    ("x-general-g-binary", "beyond the paper (binary, every G)",
     "binomial-sum P_G; the stationary pi(a) for every G lies between (14) and (15); floor table p_G(beta)"),
    ("x-bessel-beta-eff", "beyond the paper (implementations)",
     "the sample std is the population std with beta_eff = beta sqrt(G/(G - 1)); the effect of eps"),
    ("x-kl-estimators", "beyond the paper (implementations)",
     "expected gradients of k1/k2/k3/IS-k3 at pi_old = pi and the stationary form each one gives"),
    ("x-g2-direct-nlhf", "beyond the paper (Sec. 3)",
     "G = 2 with the direct penalty is the NLHF equilibrium with tau = beta/(2c)"),
    ("x-shift-only-grpo-penalty", "beyond the paper (Sec. 3)",
     "shift-only with GRPO's penalty: (14) with gamma replaced by (1 - 1/G) Delta r, for every G"),
    ("x-stochastic-large-g", "beyond the paper (App. B.1, notes slip 7)",
     "(13) with reward noise, and where (15) stops holding"),
    ("x-direct-kl-bistability", "beyond the paper (App. B.2, notes slip 10)",
     "two zeros iff h(x*) < 0; the beta threshold for given rho; stability of each under best response"),
    ("x-triangulation", "beyond the paper (App. B.2)",
     "direct penalty, G -> inf: zeros of h = Mroueh's fixed point = the arcsin-utility stationary point"),
    ("x-vertex-kkt", "beyond the paper (App. A, notes slip 4)",
     "vertex policies satisfy the KKT conditions of the sampled penalty"),
    ("x-large-g-rate", "beyond the paper (Sec. 2.3.1)",
     "pi_G - pi_inf = c/G + O(1/G^2), with c derived symbolically and checked up to G = 10^4"),
    ("x-grpo-dynamics", "beyond the paper (simulation)",
     "the GRPO update itself (sampled groups, clipping, k3 penalty, softmax) converges to the predicted policy"),
    # The slips listed in notes.md: each check shows the printed version is off (where it can be
    # checked) and that the corrected statement holds.  docs/errata.md states each correction.
    ("slip-1", "Sec. 2.1",
     "preferences are antisymmetric (not asymmetric); R_2 = 2E[P] - 1 also needs P(o > o) = 1/2 or tie-free rewards"),
    ("slip-2", "Sec. 2.3, eq. (11)",
     "the expectation term in (11) is identically 0, so lambda = 0 and pi = pi_ref / (1 - P_G/beta)"),
    ("slip-3", "Sec. 2.3, remark after (11)",
     "the remark is a one-sided bound P_G < E P_G + beta, not agreement within an additive constant"),
    ("slip-4", "App. A",
     "the normalisation step needs pi to have full support on supp pi_ref"),
    ("slip-5", "App. B.1",
     "the quadratic case is gamma != 0 (printed: gamma = 0)"),
    ("slip-6", "App. B.1, eqs. (18)-(19)",
     "the square root in std, (18) and (19) is required: without it (15) does not follow"),
    ("slip-7", "App. B.1",
     "sigma^2 = Delta^2 p_o (1 - p_o) holds only for deterministic rewards; with noise (15) is not exact"),
    ("slip-8", "App. B.2",
     "sign(r(a|q) - r(b|q)), limits x -> 0+ and x -> 1-, and h > 0 on (0, 1) (printed [0, 1])"),
    # slip 9 (typos) is not a mathematical claim: docs/errata.md lists it without a check.
    ("slip-10", "App. B.2",
     "of the two zeros of h only the smaller attracts under best response; the larger repels"),
    ("x-complete-roots", "beyond the paper (App. B.2, solver)",
     "the solver lists every interior stationary point, certified: direct KL at G = oo through the fold beta*, "
     "and the G = 64 fold triples"),
    ("x-eps-brute-force", "beyond the paper (implementations)",
     "P_G with (r - mean)/(std + eps), eps > 0, population and sample std, on every engine path = a brute-force sum over all groups"),
    ("x-engine-paths", "beyond the paper (implementations)",
     "the engine's paths agree: pairwise shift form, MomentTable (also past one batch), NumericTable, float64 scan tables"),
    ("x-config-round-trips", "beyond the paper (trainer configs)",
     "each preset's trainer config (TRL, verl, OpenRLHF field names) maps to exactly the preset's settings and beta, "
     "and changing a mapped field changes them"),
    ("x-preset-simulation", "beyond the paper (trainer presets)",
     "the stationary policy of each preset with the paper's settings family (paper, trl-0.18, trl-1.10, verl-grpo, "
     "openrlhf-kl-loss, dr_grpo) is where a sampled run of that trainer's update settles (within 3 standard errors)"),
    ("x-preset-simulation-trainers", "beyond the paper (trainer presets)",
     "the same for the presets with the trainers' own settings (rloo, openrlhf-group-norm, DAPO's filter with k3 at "
     "beta = 1/2), the sampled run computing advantages and filters as the trainers do; DAPO at its own beta = 0: no "
     "interior point, the solver names the vertex of the best output and the sampled runs approach it"),
    ("x-complete-large-group", "beyond the paper (Sec. 2.3, (13), (15); App. B.2, solver)",
     "at G = oo with eps = 0 the list is certified complete (grpo (15) at pi_ref(b) = 1e-30; three reward values, direct), "
     "and at beta = beta* the fold is one certified double root at the zero of h'"),
    ("x-boundary-kkt", "beyond the paper (App. A, solver)",
     "the boundary (vertex and face) stationary points carry KKT multipliers gamma_o = -dJ/dt along the edge off the face, "
     "equal at a vertex to App. A's; with the direct penalty no face point is a KKT point"),
    ("x-advantage-brute-force", "beyond the paper (trainers' advantage rules)",
     "P_G under rloo, rloo-std (NeMo-RL, eps >= 0) and PKPO's pass@k (k = 1, 2, 3), exact and at --dps digits, "
     "= a brute-force sum over every group and reward outcome"),
    ("x-advantage-zero-mean", "beyond the paper (trainers' advantage rules)",
     "E_pi[P_G] = 0 identically for rloo (as for GRPO's rules) but not for rloo-std or pass@k: there the solver's "
     "lambda = E_pi[P_G] != 0"),
    ("x-advantage-passk-gradient", "beyond the paper (PKPO, arXiv 2505.15201)",
     "PKPO's pass@k advantage gives P_G(o|pi) = d pass@k(pi) / d pi(o) = Prob[r(o) = 1] k (1 - m_1)^(k-1) at every "
     "G >= k and as G -> oo; non-binary rewards are refused"),
    ("x-advantage-large-group", "beyond the paper (trainers' advantage rules)",
     "rloo = G/(G-1) x the shift-only rule, so its P_G = r(o) - E_pi r at every G; rloo-std tends to the paper's "
     "(r - E r)/sigma as G -> oo"),
    ("x-filter-objective", "beyond the paper (group filtering)",
     "the loss summed over every group, with all-equal groups kept, masked or dropped and refilled, = "
     "sum_o pi P_G - beta sum_o W_o T_o (over 1 - Z for drop-equal), W_o = P(group not all equal | o), Z = P(all equal)"),
    ("x-filter-effective-beta", "beyond the paper (group filtering)",
     "under mask-penalty and drop-equal each output sees the effective weight beta W_o(pi) (drop-equal rescales "
     "lambda by 1 - Z); the solver's policy zeroes the gradient of the enumerated loss"),
    ("x-filter-three-policies", "beyond the paper (group filtering)",
     "at one context mask-penalty and drop-equal give the same stationary policy and keep a different one at "
     "every finite G; all three coincide as G -> oo, and as beta -> 0+ to first order in beta (not the second)"),
    ("x-kl-sampled-gradient", "beyond the paper (TRL, verl, OpenRLHF)",
     "for every KL estimator x placement, clamped or not, and with the entropy bonus, the trainers' sampled loss "
     "has the derived expected gradient (Monte Carlo, within 4 standard errors)"),
    ("x-kl-link-reciprocal", "beyond the paper (TRL, verl: k3 in the loss)",
     "k3 in the loss gives the reciprocal link pi = pi_ref/(1 - (P - lambda)/beta), the paper's (11), and (14)/(15)"),
    ("x-kl-link-exponential", "beyond the paper (k2, IS-k3, k3+ in the loss; k1 after normalisation)",
     "k2, IS-weighted k3 and k3+ in the loss and k1 added after normalisation give log pooling "
     "pi = pi_ref exp((P - lambda)/beta); binary G = 2: logistic closed form; G -> oo: none in closed form"),
    ("x-kl-link-linear", "beyond the paper (k3 with the ratio flipped)",
     "k3 with the flipped ratio pi/pi_ref in the loss is the chi^2 gradient: linear link pi = pi_ref (1 + (P - lambda)/beta); "
     "binary G = 2: p = rho (1 + gamma (1 - rho)/beta); G -> oo: a quartic"),
    ("x-kl-link-none", "beyond the paper (k1 in the loss)",
     "k1 in the loss has a constant expected gradient: no regularisation, no interior stationary point when rewards differ"),
    ("x-kl-reward-post-lambert", "beyond the paper (OpenRLHF: KL added after normalisation)",
     "k3 (also IS-k3, k3+, flipped k3) added after normalisation: pi = pi_ref exp(...) with Lambert W, two branches W_0, W_-1; "
     "binary G = 2: the interior root lies below pi_ref(a) and repels"),
    ("x-kl-entropy-softmax", "beyond the paper (TRL entropy_coef with beta = 0)",
     "beta = 0 with the entropy bonus c H(pi): pi ∝ exp(P_G(o|pi)/c); binary G = 2: p = 1/(1 + exp(-gamma/c)); G -> oo: none in closed form"),
    ("x-kl-entropy-with-kl", "beyond the paper (entropy bonus with a KL)",
     "entropy bonus with k2/IS-k3 in the loss: geometric pooling pi ∝ pi_ref^(beta/(beta+c)) exp(P/(beta+c)); with k3: Lambert W"),
    ("x-kl-reward-pre-pooling", "beyond the paper (verl use_kl_in_reward)",
     "k1 in the reward before normalisation: every output's normalised preference vanishes; deterministic rewards: RLHF log "
     "pooling (4) at every G; stochastic: log pooling of the mean rewards at G -> oo, not at G = 2"),
    ("x-kl-clamp-region", "beyond the paper (verl, OpenRLHF clamp the KL value)",
     "a clamp at C acts at output o of the k3 stationary form iff |x + log(1 - x)| >= C, x = (P_o - lambda)/beta; "
     "there (14) stops being stationary"),
)

CLAIMS_BY_ID = {claim.id: claim for claim in CLAIMS}
if len(CLAIMS_BY_ID) != len(CLAIMS):  # pragma: no cover - guards edits of this file
    raise RuntimeError("paper_checks.claims: duplicate claim ID")
