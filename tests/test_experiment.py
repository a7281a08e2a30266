import copy
import json
import math
import os
import pathlib

import keras
import numpy as np
import pytest
from folders import write_image_folder
from PIL import Image
from scripts import lenet_smoke_config, load_script

from keras_hebb.run.corruption_report import run_corruptions
from keras_hebb.run.experiment import evaluate_files, run_experiment, without_timings
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.recipe import learning_rate_schedule
from keras_hebb.run.report import CORRUPTION_PLOT, PLOTS
from keras_hebb.run.robust_accuracy import run_robustness
from keras_hebb.run.setting import ConfigMismatchError
from keras_hebb.run.train import train_network

# Trained fixtures, subprocesses or other sessions: the slow tier.
pytestmark = pytest.mark.slow


SEEDS = (2022, 2023)


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return write_image_folder(root / "data", train_per_class=13, test_per_class=7)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, data_folder):
    """A baseline and a HaH variant, two seeds, smoke size; every file's
    writes recorded."""
    root = tmp_path_factory.mktemp("smoke")
    # AutoAttack at reduced strength: the smoke preset's standard one would
    # take minutes here.
    config = lenet_smoke_config(
        data_folder,
        f"training.seeds=[{SEEDS[0]},{SEEDS[1]}]",
        "robustness.attacks.strength=reduced",
    )
    renamed = []
    real_replace = os.replace

    def replace(source, destination):
        renamed.append(pathlib.Path(destination))
        real_replace(source, destination)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", replace)
        record = run_experiment(config, root / "out")
    return root / "out", record, config, renamed


@pytest.fixture(scope="module")
def corruption_cache(tmp_path_factory):
    """One cache of the corrupted test sets for the module: each is made once."""
    return str(tmp_path_factory.mktemp("corruption_cache"))


def in_unit_range(value):
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_every_output_file_appears(smoke_run):
    out, _, config, _ = smoke_run
    for name in ["results.json", "results.md", *PLOTS.values()]:
        assert (out / name).is_file(), name
    for variant in config.variants:
        for seed in SEEDS:
            folder = RunFolder(out).network(variant, seed).path
            for name in (
                "model.keras",
                "evaluation.json",
                "per_image.npz",
                "variant.json",
            ):
                assert (folder / name).is_file(), (variant, seed, name)
            history = (folder / "history.csv").read_text().splitlines()
            assert len(history) == 1 + config.training.epochs
            assert any((folder / "tensorboard").rglob("events.out.tfevents.*"))
            assert not (folder / "backup").exists()
    for plot in PLOTS.values():
        with Image.open(out / plot) as image:
            assert image.width > 300 and image.height > 150


def test_every_output_file_is_written_through_a_rename(smoke_run):
    out, _, _, renamed = smoke_run
    written = {
        path
        for path in out.rglob("*")
        if path.is_file() and "tensorboard" not in path.relative_to(out).parts
    }
    assert written and written <= set(renamed)
    assert not list(out.rglob("*partial*"))


def test_results_record_the_configuration_and_provenance(smoke_run):
    out, record, config, _ = smoke_run
    assert json.loads((out / "results.json").read_text()) == record.to_dict()
    assert record.config == config.to_dict()
    assert record.config["training"]["seeds"] == list(SEEDS)
    provenance = record.provenance
    assert set(provenance) == {"git_commit", "git_dirty", "versions"}
    assert {
        "tensorflow",
        "keras",
        "pyautoattack",
        "torch",
        "omegaconf",
    } <= set(provenance["versions"])
    assert provenance["versions"]["pyautoattack"] == "0.2.0"
    assert record.replicas == 1 and isinstance(record.deterministic, bool)
    assert record.test_images == config.data.test_limit


def test_every_seed_has_every_figure_in_range(smoke_run):
    _, record, config, _ = smoke_run
    evaluation = config.evaluation
    for by_seed in record.variants.values():
        assert list(by_seed) == [str(s) for s in SEEDS]
        for net in by_seed.values():
            assert in_unit_range(net["clean_accuracy"])
            for kind in evaluation.noise_kinds:
                assert list(net["noise_accuracy"][kind]) == [
                    str(s) for s in evaluation.noise_stds
                ]
            assert len(net["adversarial_accuracy"]) == len(evaluation.attack_budgets)
            assert all(in_unit_range(a) for a in net["adversarial_accuracy"].values())
            assert all(math.isfinite(v) for v in net["snr_db"].values())
            assert net["train_seconds"] > 0
    hah = record.variants["hah"][str(SEEDS[0])]
    assert hah["sparse_blocks"] == ["conv1", "conv2"]
    assert record.variants["baseline"][str(SEEDS[0])]["sparse_blocks"] == []
    assert record.sparse_blocks == hah["sparse_blocks"]
    assert all(hah["sparsity"][b]["nonzero"] <= 0.25 for b in hah["sparse_blocks"])


def test_seeds_differ_and_the_summary_is_their_mean_and_sd(smoke_run):
    out, record, _, _ = smoke_run
    for variant in ("baseline", "hah"):
        accuracies = [record.variants[variant][str(s)]["clean_accuracy"] for s in SEEDS]
        summary = record.summary[variant]["clean_accuracy"]
        assert summary["n"] == 2
        assert summary["mean"] == pytest.approx(np.mean(accuracies))
        assert summary["sd"] == pytest.approx(np.std(accuracies, ddof=1))
    weights = [
        keras.saving.load_model(RunFolder(out).network("hah", s).model).get_weights()[1]
        for s in SEEDS
    ]
    assert not np.array_equal(*weights)


def test_comparison_pairs_the_same_images_across_seeds(smoke_run):
    out, record, _, _ = smoke_run
    clean = record.comparisons["hah"]["clean"]
    scores = {
        (v, s): np.load(RunFolder(out).network(v, s).per_image)["clean"]
        for v in ("baseline", "hah")
        for s in SEEDS
    }
    expected = np.mean([scores["hah", s] - scores["baseline", s] for s in SEEDS])
    assert clean["difference"] == pytest.approx(expected, abs=1e-6)
    assert clean["interval"][0] <= clean["difference"] <= clean["interval"][1]
    assert set(clean["mcnemar"]) == {str(s) for s in SEEDS}
    for seed in SEEDS:
        test = clean["mcnemar"][str(seed)]
        assert test["other_only"] == int(
            np.sum((scores["hah", seed] == 1) & (scores["baseline", seed] == 0))
        )
    assert clean["across_seeds"]["seeds"] == 2
    assert clean["verdict"] in ("higher", "lower", "no difference shown")


def test_results_md_has_a_column_per_variant_with_spreads(smoke_run):
    out, record, config, _ = smoke_run
    text = (out / "results.md").read_text()
    clean = {v: record.summary[v]["clean_accuracy"] for v in ("baseline", "hah")}
    row = (
        f"| clean accuracy | {clean['baseline']['mean']:.4f} ± "
        f"{clean['baseline']['sd']:.4f} | {clean['hah']['mean']:.4f} ± "
        f"{clean['hah']['sd']:.4f} |"
    )
    assert row in text
    labels = {v: config.variants[v].label for v in ("baseline", "hah")}
    assert f"### {labels['hah']} against {labels['baseline']}" in text
    assert "PGD-3 L_inf 2/255" in text and "PGD-3 L2 0.25" in text
    assert all(f"![{key}]({name})" in text for key, name in PLOTS.items())


def test_rerun_reuses_every_evaluation(smoke_run, capsys):
    out, first, config, _ = smoke_run
    model_file = RunFolder(out).network("hah", SEEDS[1]).model
    mtime = model_file.stat().st_mtime
    again = run_experiment(config, out)
    assert capsys.readouterr().out.count("evaluation found") == 4
    assert model_file.stat().st_mtime == mtime
    assert without_timings(again.to_dict()) == without_timings(first.to_dict())


def test_rerun_with_another_configuration_is_refused(smoke_run):
    out, _, config, _ = smoke_run
    changed = lenet_smoke_config(
        config.data.source,
        f"training.seeds=[{SEEDS[0]},{SEEDS[1]}]",
        "variants.hah.args.keep=0.5",
    )
    with pytest.raises(ConfigMismatchError, match="'arguments'"):
        run_experiment(changed, out)


def test_evaluate_files_compares_saved_models(smoke_run, tmp_path):
    out, record, config, _ = smoke_run
    files = [RunFolder(out).network(v, SEEDS[0]).model for v in ("baseline", "hah")]
    evaluated = evaluate_files(config, files, tmp_path)
    assert list(evaluated.summary) == ["baseline_seed_2022", "hah_seed_2022"]
    first = next(iter(evaluated.variants.values()))[str(SEEDS[0])]
    assert (
        first["clean_accuracy"]
        == record.variants["baseline"][str(SEEDS[0])]["clean_accuracy"]
    )
    assert (tmp_path / "results.md").is_file()


def test_robustness_of_a_run_summarises_every_seed(smoke_run):
    out, _, config, _ = smoke_run
    record = run_robustness(config, out)
    assert json.loads((out / "robustness.json").read_text()) == record.to_dict()
    assert list(record.by_seed) == [str(s) for s in SEEDS]
    text = (out / "robustness.md").read_text()
    assert "robust accuracy (worst case)" in text and "Each attack, seed 2023" in text
    assert "REDUCED strength (tests only)" in text
    assert "AutoAttack: after FAB-T" in text
    for models in record.by_seed.values():
        for name, by_budget in models.items():
            for key, result in by_budget.items():
                names = " ".join(result["per_attack"])
                for attack in (
                    "AutoAttack REDUCED strength (tests only)",
                    "PGD-3x2",
                    "transfer from",
                ):
                    assert attack in names, (name, key, attack)
                assert list(result["autoattack"]["running"]) == [
                    "clean",
                    "apgd-ce",
                    "apgd-t",
                    "fab-t",
                    "square",
                ]
                assert ("SPSA" in names) == key.startswith("linf")
                assert ("BPDA" in names) == (name == "hah")
                assert result["worst_case"] <= min(result["per_attack"].values())
                assert np.mean(result["robust_images"]) == result["worst_case"]
    key = next(iter(record.summary["hah"]))
    worst = [record.by_seed[str(s)]["hah"][key]["worst_case"] for s in SEEDS]
    assert record.summary["hah"][key]["mean"] == pytest.approx(np.mean(worst))
    assert "baseline" not in record.comparisons and key in record.comparisons["hah"]


def test_robustness_of_one_model_file(smoke_run, tmp_path):
    out, _, config, _ = smoke_run
    record = run_robustness(
        config, tmp_path, [RunFolder(out).network("hah", SEEDS[0]).model]
    )
    (name,) = record.summary
    assert record.comparisons == {}
    result = next(iter(record.by_seed["0"][name].values()))
    assert not any(a.startswith("transfer") for a in result["per_attack"])


def test_corruptions_of_a_run_cover_every_seed_corruption_and_severity(
    smoke_run, corruption_cache
):
    out, _, config, _ = smoke_run
    config.corruptions.cache = corruption_cache
    record = run_corruptions(config, out)
    assert list(record.by_seed) == [str(s) for s in SEEDS]
    assert record.data_source.startswith("CIFAR-10-C's corruptions and parameters")
    for models in record.by_seed.values():
        assert models["baseline"]["mce"] == pytest.approx(100.0)
        # 100 wherever the baseline's corruptions add errors at all (smoke-size
        # networks can be as wrong clean as corrupted).
        relative = models["baseline"]["relative_corruption_error"].values()
        assert all(v == pytest.approx(100.0) for v in relative if not math.isnan(v))
        assert all(in_unit_range(f["clean_accuracy"]) for f in models.values())
        for figures in models.values():
            assert len(figures["accuracy"]) == 15
            assert all(len(by) == 5 for by in figures["accuracy"].values())
            means = [a for by in figures["accuracy"].values() for a in by.values()]
            assert figures["mean_accuracy"] == pytest.approx(np.mean(means))
            assert figures["copies"] == 75
            assert np.mean(figures["copies_right"]) / 75 == pytest.approx(
                figures["mean_accuracy"]
            )
    assert list(record.comparisons) == ["hah"]
    assert "mCE" in (out / "corruptions.md").read_text()
    assert (out / CORRUPTION_PLOT).is_file()


def test_corruptions_of_model_files_take_the_first_as_reference(
    smoke_run, tmp_path, corruption_cache
):
    out, _, config, _ = smoke_run
    config.corruptions.cache = corruption_cache
    # Two corruptions at two severities: the run's report below has them all.
    subset = copy.deepcopy(config)
    subset.corruptions.corruptions = ["gaussian_noise", "fog"]
    subset.corruptions.severities = [1, 5]
    files = [RunFolder(out).network(v, SEEDS[0]).model for v in ("hah", "baseline")]
    record = run_corruptions(subset, tmp_path, files)
    assert record.reference == "hah_seed_2022"
    figures = record.by_seed["0"]["hah_seed_2022"]
    assert figures["mce"] == pytest.approx(100.0) and figures["copies"] == 4
    # The run's own report (made by the test above, or now).
    path = out / "corruptions.json"
    run_record = (
        RunFolder(out).read_record("corruptions")
        if path.is_file()
        else run_corruptions(config, out)
    )
    run_hah = run_record.by_seed[str(SEEDS[0])]["hah"]["accuracy"]
    assert figures["accuracy"] == {
        name: {severity: run_hah[name][severity] for severity in by_severity}
        for name, by_severity in figures["accuracy"].items()
    }
    assert list(figures["accuracy"]) == subset.corruptions.corruptions


def test_defences_study_tables_every_axis_and_every_network(
    smoke_run, corruption_cache
):
    out, record, config, _ = smoke_run
    if not (out / "robustness.json").is_file():
        run_robustness(config, out)
    if not (out / "corruptions.json").is_file():
        config.corruptions.cache = corruption_cache
        run_corruptions(config, out)
    defences = load_script("defences")
    defences.main(["--output", str(out), "--noise-stds", "0.2"])
    text = (out / "defences.md").read_text()
    hah = config.variants["hah"].label
    assert f"| {hah} |" in text and f"## {hah} minus each network" in text
    assert "mCE" in text
    comparisons = json.loads((out / "defences.json").read_text())["comparisons"]
    assert list(comparisons) == [
        "clean accuracy",
        "Gaussian noise std 0.2",
        "mean corruption accuracy",
        "robust L_inf 2/255",
    ]
    assert comparisons["clean accuracy"]["baseline"]["difference"] == pytest.approx(
        record.comparisons["hah"]["clean"]["difference"]
    )
    assert (out / "defences.png").is_file()


def test_learning_rate_schedules(data_folder):
    def rates(*overrides):
        config = lenet_smoke_config(data_folder, "training.epochs=10", *overrides)
        schedule = learning_rate_schedule(config.training)
        return [schedule(epoch) for epoch in (0, 5, 6, 8, 9)]

    assert rates() == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-5])
    assert rates("training.schedule=constant") == pytest.approx([1e-3] * 5)
    cosine = rates("training.schedule=cosine")
    assert cosine[0] == pytest.approx(1e-3) and cosine[2] < cosine[1] < cosine[0]


def test_train_network_rebuilds_the_configured_variant(data_folder, tmp_path):
    config = lenet_smoke_config(data_folder, "variants.hah.args.threshold=adaptive")
    model, seconds = train_network(config, "hah", 7, tmp_path)
    assert seconds > 0 and model.name == "hah"
    types = {type(layer).__name__ for layer in model.layers}
    assert "AdaptiveThreshold" in types and "FractionalThreshold" not in types
    recorded = json.loads((tmp_path / "training.json").read_text())
    assert recorded["seed"] == 7 and recorded["arguments"]["threshold"] == "adaptive"
