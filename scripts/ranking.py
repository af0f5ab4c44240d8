"""The docking ranking rule, shared by the study scripts.

`disco-dock` ranks a complex's poses PB-valid first, then by
    energy - c * logit(confidence) + w * potential - t * template
with c, w and t the `confidence_weight`, `potential_weight` and `template_weight` of the model's
sampling.json (the template term counts only where the rows have a `template` value)
(src/dock). The study scripts re-rank benchmark pose rows (`benchmark --poses-out`) with this key,
sometimes with another energy (refined, Vina's) or other weights; reading the weights from the
shipped sampling.json keeps them in step with the docking command.
"""
import functools
import json
import math
import os

SHIPPED_SAMPLING = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'models', 'default', 'sampling.json')


def logit(p):
    """Log-odds of a probability, clipped so that 0 and 1 stay finite."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@functools.lru_cache(maxsize=None)
def shipped_weights(path=SHIPPED_SAMPLING):
    """(confidence weight, potential weight) of a model's sampling.json (default: the shipped one)."""
    with open(path) as f:
        sampling = json.load(f)
    return sampling.get('confidence_weight', 0.0), sampling.get('potential_weight', 0.0)


@functools.lru_cache(maxsize=None)
def shipped_template_weight(path=SHIPPED_SAMPLING):
    """The `template_weight` of a model's sampling.json (default: the shipped one)."""
    with open(path) as f:
        return json.load(f).get('template_weight', 0.0)


def rule_key(pose, energy=None, c=None, w=None, t=None):
    """Sort key of a benchmark pose row under the docking rule (smaller is better).

    `energy` replaces the row's own energy (e.g. after another refinement); `c` and `w` default to
    the shipped weights, as does `t`, the template weight.
    """
    shipped_c, shipped_w = shipped_weights()
    c = shipped_c if c is None else c
    w = shipped_w if w is None else w
    e = float(pose['energy']) if energy is None else energy
    t = shipped_template_weight() if t is None else t
    value = e - c * logit(float(pose['confidence'])) + w * float(pose['potential']) - t * float(pose.get('template') or 0.0)
    return (pose['pb_valid'] != 'true', value)
