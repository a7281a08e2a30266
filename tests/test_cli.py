import importlib.metadata
import json
import pathlib
import subprocess
import sys

import pytest
import yaml

import keras_hebb
from keras_hebb.run import cli
from keras_hebb.run.config import load_config
from keras_hebb.saving import load_model

COMMAND = pathlib.Path(sys.executable).parent / "keras-hebb"
ROOT = pathlib.Path(__file__).parents[1]


def run(*args):
    return subprocess.run(
        [str(COMMAND), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_console_command_is_installed():
    assert COMMAND.is_file(), (
        "install the package (pip install -e .) for its entry point"
    )


SUBCOMMANDS = (
    "run",
    "config",
    "train",
    "evaluate",
    "robustness",
    "corruptions",
    "export",
    "report",
)


def test_help_lists_subcommands_and_every_option_shows_its_default():
    result = run("--help")
    assert result.returncode == 0
    for command in SUBCOMMANDS:
        assert command in result.stdout
    run_help = run("run", "--help")
    assert run_help.returncode == 0 and "cifar10-jpeg" in run_help.stdout
    for option in (
        "--preset",
        "--variants",
        "--config",
        "--distribute",
        "--deterministic",
    ):
        text = run_help.stdout.split(option, 2)[-1].split("\n  -")[0]
        assert "default" in text, option


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"keras-hebb {keras_hebb.__version__}\n"


def test_citation_and_license_match_the_package():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == keras_hebb.__version__
    assert citation["preferred-citation"]["identifiers"][0]["value"] == (
        "arXiv:2202.13074"
    )
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    metadata = importlib.metadata.metadata("keras-hebb")
    assert metadata["License"] == citation["license"] == "Apache-2.0"


def test_help_answers_without_importing_tensorflow():
    probe = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "from keras_hebb.run import cli\n"
        f"for command in ([], *[[c] for c in {SUBCOMMANDS!r}]):\n"
        "    try:\n"
        "        cli.main([*command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(time.perf_counter() - start)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *_, seconds, heavy = result.stdout.strip().splitlines()
    assert heavy == "[]", heavy
    assert float(seconds) < 1.0


def test_bad_preset_is_refused():
    result = run("run", "--preset", "huge", "--output", "unused")
    assert result.returncode == 2
    assert "invalid choice: 'huge'" in result.stderr


def test_bad_override_is_refused_before_tensorflow_starts():
    result = run("run", "--preset", "smoke", "--output", "unused", "training.epoch=3")
    assert result.returncode == 2
    assert (
        "unknown key 'training.epoch'. Did you mean 'training.epochs'?" in result.stderr
    )
    assert not pathlib.Path("unused").exists()


@pytest.mark.slow
def test_config_prints_the_resolved_yaml():
    result = run(
        "config", "--preset", "cpu", "--variants", "ablation", "training.epochs=3"
    )
    assert result.returncode == 0, result.stderr
    assert "epochs: 3" in result.stdout and "no_threshold:" in result.stdout
    assert "I0000" not in result.stderr and "absl" not in result.stderr


def test_bad_strategy_is_refused():
    result = run("train", "--variant", "hah", "--distribute", "tpu", "--output", "x")
    assert result.returncode == 2
    assert "invalid choice: 'tpu'" in result.stderr and "multi_worker" in result.stderr


@pytest.mark.slow
def test_missing_data_folder_says_what_to_pass(tmp_path):
    result = run(
        "run",
        "--preset",
        "smoke",
        "--data",
        str(tmp_path / "nowhere"),
        "--output",
        str(tmp_path / "out"),
    )
    assert result.returncode != 0
    assert "is not a folder" in result.stderr and "train/<class>" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_model_file_is_refused(tmp_path):
    result = run("export", "--model", str(tmp_path / "none.keras"), "--output", "x")
    assert result.returncode != 0 and "is not a file" in result.stderr


def test_report_rewrites_results_md_from_results_json(tmp_path):
    result = run("report", "--output", str(tmp_path))
    assert result.returncode != 0 and "holds none of" in result.stderr


@pytest.mark.slow
def test_corrupted_model_file_is_named(tmp_path):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"\x00\x01 not a zip archive" * 64)
    result = run("export", "--model", str(garbage), "--output", str(tmp_path / "x"))
    assert result.returncode == 1
    assert f"{garbage} is not a .keras model file" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_a_grayscale_three_class_folder_trains_and_evaluates_end_to_end(tmp_path):
    from folders import write_class_folder

    classes = ("circle", "square", "triangle")
    data = write_class_folder(tmp_path / "shapes", classes, (28, 28), 8, 4)
    output = tmp_path / "out"
    result = run(
        "run",
        "--preset",
        "smoke",
        "--config",
        str(pathlib.Path(__file__).parents[1] / "experiments/configs/lenet.yaml"),
        "--data",
        str(data),
        "--output",
        str(output),
        "network_args.width=0.125",
        "data.validation_limit=6",
        # One noise kind and one budget: the run's figures are not the subject.
        "evaluation.noise_kinds=[gaussian]",
        "evaluation.attack_budgets=[{norm: linf, eps: 0.01}]",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Output to a pipe, not a terminal: a line per epoch, no progress bars.
    assert "\x1b[" not in result.stdout and "\r" not in result.stdout
    epochs = [line for line in result.stdout.splitlines() if " - loss: " in line]
    smoke_epochs = load_config("smoke").training.epochs
    assert len(epochs) == 2 * smoke_epochs, result.stdout[-3000:]
    record = json.loads((output / "results.json").read_text())
    assert record["data_source"] == f"image folder {data}"
    for variant in ("baseline", "hah"):
        figures = record["variants"][variant]["2022"]
        assert 0 <= figures["clean_accuracy"] <= 1
        assert sorted(figures["sparsity"]) == ["conv1", "conv2"]
    assert record["sparse_blocks"] == ["conv1", "conv2"]
    setting = json.loads((output / "hah/seed_2022/variant.json").read_text())
    assert setting["data"]["holdout"] == 6 and setting["network"] == "hah_lenet"
    model = load_model(output / "hah/seed_2022/model.keras")
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 3)


def test_another_keras_backend_is_refused_by_name(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["config", "--preset", "smoke"])
    assert exit_.value.code == 2
    assert "KERAS_BACKEND is 'jax'" in capsys.readouterr().err
