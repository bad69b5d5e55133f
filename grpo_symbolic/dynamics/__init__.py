"""GRPO's update itself, sampled and expected, on a tabular softmax policy."""
