"""The one-token bandit a real trainer sees: a tiny local causal LM and a reward over K tokens.

One prompt token ``Q``; one vocabulary token ``o0 … o{K-1}`` per output; three special tokens.
With ``max_completion_length=1`` a completion is a single token, so the trainer's policy is the
next-token distribution after ``Q``.  The model is a randomly initialised one-layer Llama (hidden
size 16, untied embeddings) whose LM head is set so that the logits after ``Q`` are exactly
log π_ref on the output tokens and :data:`SPECIAL_LOGIT` on every other token.  It is saved to a
folder and handed to the trainer as a path, so the trainer's frozen reference copy loads the same
initial weights.  Nothing is downloaded: the tokenizer is built from a word-level vocabulary.

Rewards are given per output as in :class:`grpo_symbolic.Problem`: a number, or a dict
value -> probability (a stochastic law, sampled with a seeded generator); π_ref, the laws and β
are validated by the package's own :class:`~grpo_symbolic.model.problem.Problem` (no torch needed):

>>> problem = bandit_problem(["0.5", "0.5"], [1, {"1": "1/2", "0": "1/2"}], beta="0.5")
>>> [law.mean for law in problem.rewards]
[1, 1/2]
>>> bandit_problem(["0.5", "0.5"], [1, 0, 0], beta="0.5")
Traceback (most recent call last):
...
grpo_symbolic.model.errors.ParameterError: rewards: got 3 reward laws for 2 outputs; give one per output of reference
"""

from collections.abc import Sequence
import math
import os
import random

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.model.problem import Problem, RewardLaw

#: Logit of the tokens that are not outputs (special tokens and the prompt token): mass ~1e-13.
SPECIAL_LOGIT = -30.0
SPECIAL_TOKENS = ("<pad>", "<eos>", "<unk>")
PROMPT_TOKEN = "Q"
INSTALL_HINT = 'pip install -e ".[trainers]"'


class TrainersNotInstalled(ImportError):
    """torch / trl / transformers are missing: install the ``trainers`` extra."""


def require_trainers():
    """Import and return ``(torch, transformers, trl)``, or raise :class:`TrainersNotInstalled`.

    Also switches the Hugging Face libraries to offline mode: the bandit needs no download.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
        import transformers
        import trl
    except ImportError as exc:
        raise TrainersNotInstalled(
            f"the real-trainer comparison needs torch, transformers and trl ({exc}); "
            f"install them with: {INSTALL_HINT}"
        ) from exc
    return torch, transformers, trl


def bandit_problem(reference: Sequence, rewards: Sequence, beta: object) -> Problem:
    """π_ref, the reward laws and β of a bandit, validated and kept exact as a :class:`Problem`.

    The group size is a placeholder (2): the trainer's own settings decide it.
    """
    problem = Problem(reference=tuple(reference), rewards=tuple(rewards), group_size=2, beta=beta)
    problem.require_paper_penalty("the TRL bandit comparison")  # beta > 0: its prediction is an interior policy
    return problem


class BanditReward:
    """A TRL reward function over the K output tokens: deterministic or sampled from each law.

    Called with ``completion_ids`` (TRL passes it); a completion that is not exactly one output
    token (a special token, probability ~1e-13) gets reward 0 and is counted in ``off_outputs``.

    >>> reward = BanditReward([1, {"2": "1/4", "0": "3/4"}], output_ids=[3, 4], seed=0)
    >>> reward(completion_ids=[[3], [3], [0]])
    [1.0, 1.0, 0.0]
    >>> reward.off_outputs
    1
    """

    __name__ = "bandit_reward"

    def __init__(self, rewards, output_ids, seed=0):
        if len(rewards) != len(output_ids):
            raise ParameterError(f"rewards: got {len(rewards)} reward laws for {len(output_ids)} output tokens; "
                                 "give one per output")
        self.laws = tuple(RewardLaw.of(spec, f"rewards[{i}]") for i, spec in enumerate(rewards))
        self.index = {int(t): i for i, t in enumerate(output_ids)}
        self._rng = random.Random(seed)
        self._tables = [([float(v) for v, _ in law.outcomes], [float(q) for _, q in law.outcomes])
                        for law in self.laws]
        self.off_outputs = 0

    def reward_of(self, output):
        values, weights = self._tables[output]
        if len(values) == 1:
            return values[0]
        return self._rng.choices(values, weights=weights)[0]

    def __call__(self, completion_ids=None, **_ignored):
        if completion_ids is None:
            raise ParameterError("completion_ids: the trainer did not pass token ids; this reward needs them")
        out = []
        for ids in completion_ids:
            ids = [int(t) for t in ids]
            if len(ids) == 1 and ids[0] in self.index:
                out.append(self.reward_of(self.index[ids[0]]))
            else:
                self.off_outputs += 1
                out.append(0.0)
        return out


def vocabulary(n_outputs):
    """Token -> id: the special tokens, the prompt token, then one token per output."""
    tokens = list(SPECIAL_TOKENS) + [PROMPT_TOKEN] + [f"o{i}" for i in range(n_outputs)]
    return {t: i for i, t in enumerate(tokens)}


def build_bandit(reference, folder, seed=0, hidden_size=16):
    """Build, set and save the bandit model and tokenizer in ``folder``; return the output token ids.

    The logits after the prompt token are log π_ref (as float32) on the outputs and
    :data:`SPECIAL_LOGIT` elsewhere; :func:`prompt_distribution` reads them back.
    """
    torch, transformers, _ = require_trainers()
    from tokenizers import Tokenizer, models, pre_tokenizers

    probs = bandit_problem(reference, [0] * len(reference), beta=1).reference
    vocab = vocabulary(len(probs))
    word_level = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>",
        padding_side="left",
    )
    config = transformers.LlamaConfig(
        vocab_size=len(vocab), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=16,
        tie_word_embeddings=False, pad_token_id=vocab["<pad>"], eos_token_id=vocab["<eos>"], bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config).float().eval()
    target = torch.full((len(vocab),), SPECIAL_LOGIT, dtype=torch.float64)
    output_ids = [vocab[f"o{i}"] for i in range(len(probs))]
    for token, p in zip(output_ids, probs):
        target[token] = math.log(int(p.p)) - math.log(int(p.q))
    with torch.no_grad():
        hidden = model.model(input_ids=torch.tensor([[vocab[PROMPT_TOKEN]]])).last_hidden_state[0, -1].double()
        model.lm_head.weight.copy_((torch.outer(target, hidden) / hidden.dot(hidden)).float())
    model.generation_config = transformers.GenerationConfig(
        pad_token_id=vocab["<pad>"], eos_token_id=vocab["<eos>"], do_sample=True, top_k=0, top_p=1.0, temperature=1.0,
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return output_ids


def prompt_distribution(model, prompt_id):
    """The full next-token distribution after the prompt (float64 softmax of the float32 logits)."""
    import torch

    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[prompt_id]], device=model.device)).logits[0, -1]
    if was_training:
        model.train()
    return torch.softmax(logits.double(), dim=-1).cpu()
