"""Plain-language explanations of diagnostic flags, and what to do about each (shown in reports)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    meaning: str
    action: str


EXPLANATIONS: dict[str, Explanation] = {
    "catastrophic_overfitting": Explanation(
        "Single-step attacks (FGSM) barely hurt the model while multi-step attacks (PGD) break it: the model "
        "learned to defeat the one attack it was trained against, not to be robust. Typical of FGSM "
        "adversarial training without random start (Wong et al. 2020).",
        "Trust the multi-step numbers only. Retrain with PGD-AT or TRADES, or with FGSM-RS / N-FGSM and the "
        "catastrophic-overfitting guard (robench train stops and keeps the last good epoch).",
    ),
    "robust_above_clean": Explanation(
        "Some stage reports higher accuracy under attack than on clean inputs, which is impossible for a "
        "correct evaluation.",
        "Check the model's normalisation and that it is deterministic in eval mode; rerun the evaluation.",
    ),
    "non_finite_outputs": Explanation(
        "The model produced NaN or infinite logits on some inputs, so gradients and predictions there are "
        "meaningless.",
        "Check the checkpoint and its normalisation; fix the numerical problem before trusting any number.",
    ),
    "probabilities_output": Explanation(
        "The model seems to output probabilities (softmax) rather than logits; attacks on saturated "
        "probabilities get vanishing gradients and look weaker than they are.",
        "Remove the final softmax so the model returns logits, then re-evaluate.",
    ),
    "randomized_model": Explanation(
        "The model's predictions change between identical forward passes; a single-sample attack sees a "
        "moving target and overestimates robustness.",
        "Evaluate with expectation over transformation (autoattack-rand / EOT), or make the model "
        "deterministic in eval mode.",
    ),
    "zero_gradients": Explanation(
        "Input gradients are zero or missing for many points (a broken graph, or saturated activations): "
        "gradient attacks cannot find adversarial examples there even if they exist (gradient masking).",
        "Do not trust the robust accuracy. Check for non-differentiable layers (use BPDA), detached tensors "
        "or softmax outputs; the black-box stages give a more honest number.",
    ),
    "unbounded_attack_fails": Explanation(
        "An attack with an unlimited budget should break every point, but it did not: the attacks are not "
        "working on this model (a sign of gradient masking).",
        "Treat the robust accuracy as an overestimate; investigate the model's gradients.",
    ),
    "non_monotonic_eps": Explanation(
        "Robust accuracy does not fall steadily as eps grows; a working attack can only do better with a "
        "larger budget.",
        "The attacks are failing on this model: treat the numbers as overestimates and inspect gradients.",
    ),
    "noise_stronger": Explanation(
        "Random noise breaks points that the gradient attacks could not: the gradient attacks are failing.",
        "Treat the robust accuracy as an overestimate; look for gradient masking.",
    ),
    "black_box_stronger": Explanation(
        "A black-box attack (which uses no gradients) beats the white-box attacks; with working gradients "
        "that should not happen.",
        "Treat the white-box numbers as overestimates; the worst case already includes the black-box breaks.",
    ),
    "incomplete_optimization": Explanation(
        "The attack loss was still improving when the iterations ran out: more iterations would likely break "
        "more points.",
        "Re-evaluate with more iterations or restarts (e.g. a custom suite with pgd-200x10).",
    ),
}


def explain(code: str, message: str = "") -> Explanation:
    """The explanation of a flag code; unknown codes fall back to the flag's own message."""
    return EXPLANATIONS.get(
        code, Explanation(message or code, "See the flag's evidence in the results record.")
    )
