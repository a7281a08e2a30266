"""The benchmark script runs and prints its figures (it never asserts times)."""

import json
import subprocess
import sys

import pytest
from backend import environment_on
from scripts import EXPERIMENTS, load_script


@pytest.fixture(scope="module")
def benchmark():
    return load_script("benchmark")


TINY = ["--widths", "0.0625", "--depth", "11", "--batch-size", "8"]


@pytest.mark.slow
def test_training_prints_both_precisions_and_the_profile(benchmark, capsys):
    benchmark.main([*TINY, "--steps", "1", "--rounds", "1", "--profile"])
    out = capsys.readouterr().out
    assert "tensorflow" in out and "intra-op threads" in out
    networks = [*benchmark.NETWORKS, *benchmark.PROFILE]
    for name in networks:
        assert f"float32        {name} " in out
        assert f"mixed_bfloat16 {name} " in out
    assert out.count("x the baseline step") == 2 * len(networks)
    assert out.count("x faster than float32") == len(networks)
    assert out.count("HaH's extra") == 2 and "divisive normalisation" in out


@pytest.mark.slow
def test_ops_prints_every_hah_layer_in_each_precision(benchmark, capsys):
    benchmark.main([*TINY, "--ops", "--precisions", "mixed_bfloat16"])
    out = capsys.readouterr().out
    assert out.count("HaH top-K sum") == 4
    assert out.count("mixed_bfloat16 threshold k-th value, top_k") == 4
    assert "float32        threshold" not in out


@pytest.mark.slow
def test_evaluation_prints_both_ratios(benchmark, capsys):
    benchmark.main([*TINY, "--evaluation", "--eval-images", "20"])
    out = capsys.readouterr().out
    assert out.count("x 20 forward+backward passes") == 2
    assert out.count("forward passes (") == 2


@pytest.mark.slow
def test_training_modes_print_a_ratio_per_network_and_mode(benchmark, capsys):
    benchmark.main(
        [*TINY, "--steps", "1", "--rounds", "1", "--training-modes"]
        + ["--networks", "hah_vgg"]
    )
    out = capsys.readouterr().out
    assert out.count("x the standard step") == len(benchmark.TRAINING_MODES)
    assert "baseline_vgg" not in out
    assert "PGD-7 8/255" in out and "1.00x the standard step" in out


def test_rejects_bad_arguments(benchmark):
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--eval-images", "0"])
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--networks", "hah_vgg"])
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--evaluation", "--networks", "resnet"])
    assert benchmark.parse_args(["--evaluation", "--networks", "hah_vgg"]).networks == [
        "hah_vgg"
    ]


GPU_SCRIPT = EXPERIMENTS / "gpu_benchmark.py"
# Runs the GPU benchmark as a script with TensorFlow unimportable, as on a
# machine without it.
WITHOUT_TENSORFLOW = """
import importlib.abc, runpy, sys

class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")

sys.meta_path.insert(0, NoTensorFlow())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_gpu_benchmark_runs_on_jax_without_tensorflow(tmp_path):
    out = tmp_path / "figures.json"
    tiny = ["--depth", "11", "--width", "0.0625", "--batch-sizes", "8", "--steps", "2"]
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_TENSORFLOW,
            str(GPU_SCRIPT),
            *tiny,
            "--epochs",
            "1",
            "--json",
            str(out),
        ],
        env=environment_on("jax"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    for precision in ("float32", "mixed_bfloat16"):
        assert f"| hah_vgg | {precision} | 8 |" in process.stdout
    figures = json.loads(out.read_text())
    records = figures["records"]
    assert len(records) == 4 and all(r["images_per_second"] > 0 for r in records)
    assert "cpu" in figures["device"]


def test_gpu_benchmark_rejects_bad_arguments():
    module = load_script("gpu_benchmark")
    with pytest.raises(SystemExit):
        module.parse_args(["--steps", "0"])
    with pytest.raises(SystemExit):
        module.parse_args(["--precisions", "float16"])
