"""How reports name the attack set behind a robust accuracy."""

import dataclasses

from keras_hebb.robustness.budgets import AttackBudgets
from keras_hebb.run.report.robustness import describe_attacks


def test_standard_autoattack_is_named_with_its_fixed_strengths():
    text = describe_attacks(dataclasses.asdict(AttackBudgets()))
    assert text.startswith("the reference AutoAttack, standard version")
    assert "9 target classes, 5,000 queries" in text and "REDUCED" not in text


def test_reduced_strength_is_labelled():
    text = describe_attacks(dataclasses.asdict(AttackBudgets(strength="reduced")))
    assert "REDUCED strength (tests only)" in text and "standard" not in text


def test_a_record_of_the_earlier_attack_set_says_it_was_weaker():
    earlier = {
        **dataclasses.asdict(AttackBudgets()),
        "apgd_steps": 20,
        "apgd_targets": 3,
        "square_queries": 300,
    }
    del earlier["strength"], earlier["seed"]
    text = describe_attacks(earlier)
    assert "weaker attack set of an earlier version, not AutoAttack standard" in text
    assert "ART's APGD-CE and APGD-T 20 steps" in text and "Square 300 queries" in text
