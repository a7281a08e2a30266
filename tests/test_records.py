import json
import math

import pytest
import records as fixtures

from keras_hebb.robustness.budgets import Budget
from keras_hebb.run.records import (
    CorruptionsRecord,
    MetricKey,
    ResultsRecord,
    RobustnessRecord,
    figure_of,
    metric_keys,
)


@pytest.mark.parametrize(
    "key, text, label",
    [
        (MetricKey("clean"), "clean", "clean accuracy"),
        (MetricKey.noise("gaussian", 0.1), "gaussian_0.1", "gaussian noise std 0.1"),
        (MetricKey.noise("uniform", "0.05"), "uniform_0.05", "uniform noise std 0.05"),
        (
            MetricKey.pgd(Budget("linf", 2 / 255)),
            "pgd_linf_0.00784314",
            "PGD-20 L_inf 2/255",
        ),
        (MetricKey.pgd(Budget("l2", 0.25)), "pgd_l2_0.25", "PGD-20 L2 0.25"),
    ],
)
def test_metric_keys_round_trip_and_label(key, text, label):
    assert str(key) == text
    assert MetricKey.parse(text) == key
    assert key.label(20) == label


@pytest.mark.parametrize(
    "arguments",
    [
        {"kind": "clean", "std": 0.1},
        {"kind": "salt", "std": 0.1},
        {"kind": "gaussian"},
        {"kind": "gaussian", "std": -0.1},
        {"kind": "gaussian", "std": math.nan},
        {"kind": "pgd"},
        {"kind": "pgd", "budget": "linf_0.1"},
    ],
)
def test_bad_metric_keys_are_refused_naming_the_values(arguments):
    with pytest.raises(ValueError, match="Received: kind="):
        MetricKey(**arguments)


def test_unparseable_keys_name_themselves():
    with pytest.raises(ValueError, match="'nothing'"):
        MetricKey.parse("nothing")
    with pytest.raises(ValueError, match="'linf'"):
        MetricKey.parse("pgd_linf")


def test_budgets_round_trip_and_label():
    budget = Budget("linf", 8 / 255)
    assert Budget.parse(budget.key) == Budget("linf", float(budget.key.split("_")[1]))
    assert budget.label == "L_inf 8/255"
    assert Budget("linf", 0.01).label == "L_inf 0.01"
    with pytest.raises(ValueError, match="norm='l1'"):
        Budget("l1", 0.1)


def test_metric_keys_of_figures_follow_the_report_order():
    record = fixtures.results_record()
    summary = record.summary["hah"]
    keys = metric_keys(summary)
    assert [str(k) for k in keys] == [
        "clean",
        "gaussian_0.1",
        "gaussian_0.2",
        "pgd_linf_0.00784314",
        "pgd_l2_0.25",
    ]
    assert figure_of(summary, keys[1]) is summary["noise_accuracy"]["gaussian"]["0.1"]
    assert list(record.comparisons["hah"])[: len(keys)] == [str(k) for k in keys]


@pytest.mark.parametrize(
    "make, kind",
    [
        (fixtures.results_record, ResultsRecord),
        (fixtures.robustness_record, RobustnessRecord),
        (fixtures.corruptions_record, CorruptionsRecord),
    ],
)
def test_records_round_trip_through_json(make, kind):
    record = make()
    assert isinstance(record, kind)
    text = json.dumps(record.to_dict())
    assert kind.from_json(text) == record
    assert kind.from_dict(json.loads(text)).to_dict() == json.loads(text)


def test_a_record_made_now_reads_as_it_will_from_disk():
    record = ResultsRecord.of(
        {"config": {}, "provenance": {}, "variants": {"a": {2022: {"x": (1, 2)}}}}
    )
    assert record.variants == {"a": {"2022": {"x": [1, 2]}}}
    assert "models" not in record.to_dict() and "replicas" not in record.to_dict()


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match=r"\['budgets'\]"):
        RobustnessRecord.from_dict({"config": {}, "provenance": {}, "budgets": {}})


def test_records_answer_what_reports_ask():
    results = fixtures.results_record()
    assert results.names == ["baseline", "hah"]
    assert results.labels() == {"baseline": "baseline", "hah": "HaH"}
    assert results.seeds == [2022, 2023]
    assert results.images_of(MetricKey("clean")) == fixtures.IMAGES
    robustness = fixtures.robustness_record()
    assert robustness.budgets() == list(fixtures.BUDGETS)
    assert robustness.images_of(fixtures.BUDGETS[0]) == fixtures.IMAGES
    assert not robustness.reduced
    corruptions = fixtures.corruptions_record()
    assert corruptions.corruptions() == ["gaussian_noise", "fog"]
    assert corruptions.severities() == ["1", "2"]
    assert corruptions.relative
