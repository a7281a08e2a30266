import keras
import numpy as np
import pytest
from folders import write_image_folder

from keras_hebb.callbacks import NonFiniteTrainingError, StopOnNonFinite
from keras_hebb.run import cli, train
from keras_hebb.run.checkpoint import EpochCheckpoint
from keras_hebb.run.config import load_config
from keras_hebb.run.folder import NetworkFolder
from keras_hebb.run.networks import build_network
from keras_hebb.run.train import train_network


def tiny_model():
    model = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_nan_in_a_batch_stops_training_naming_epoch_and_batch(rng):
    x = rng.uniform(size=(48, 4, 4, 3)).astype("float32")
    y = rng.integers(0, 2, size=48)
    x[36, 1, 2, 0] = np.nan  # in the fifth batch of 8
    epoch_ends = []
    with pytest.raises(
        NonFiniteTrainingError, match=r"batch 5 of epoch 1 \(of 3 epochs\): loss is nan"
    ):
        tiny_model().fit(
            x,
            y,
            batch_size=8,
            epochs=3,
            shuffle=False,
            verbose=0,
            callbacks=[
                StopOnNonFinite(),
                keras.callbacks.LambdaCallback(
                    on_epoch_end=lambda epoch, logs: epoch_ends.append(epoch)
                ),
            ],
        )
    assert epoch_ends == []


def test_non_finite_validation_loss_stops_at_epoch_end():
    guard = StopOnNonFinite()
    guard.set_params({"epochs": 5})
    guard.on_epoch_begin(1)
    guard.on_train_batch_end(0, {"loss": 0.7, "accuracy": 0.5})
    with pytest.raises(NonFiniteTrainingError, match="end of epoch 2.*val_loss is inf"):
        guard.on_epoch_end(1, {"loss": 0.7, "val_loss": float("inf")})


class PoisonAtSecondEpoch(keras.callbacks.Callback):
    """Sets the first kernel to NaN before epoch 2's first batch."""

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 0:
            kernel = self.model.trainable_variables[0]
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


@pytest.mark.slow
def test_nan_in_training_keeps_last_good_backup_and_writes_no_model(tmp_path):
    folder = write_image_folder(tmp_path / "data", train_per_class=4, test_per_class=2)
    config = load_config("smoke", overrides=[f"data.source={folder}"])
    out = tmp_path / "out"
    with pytest.raises(NonFiniteTrainingError, match="batch 1 of epoch 2 "):
        train_network(config, "baseline", 2022, out, callbacks=[PoisonAtSecondEpoch()])
    assert not (out / "model.keras").exists()
    assert NetworkFolder(out).read_history()["epoch"] == [0.0]
    checkpoint = EpochCheckpoint(out / "backup", out / "restored_history.csv", 2022)
    model = build_network(config, "baseline", 2022)
    # Epoch 1 (index 0) done: a rerun resumes at the second epoch (index 1).
    assert checkpoint.restore(model) == 1
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_cli_exits_with_an_error_naming_the_backup(tmp_path, monkeypatch):
    def diverging(*args, **kwargs):
        raise NonFiniteTrainingError("training stopped at batch 7 of epoch 3")

    monkeypatch.setattr(train, "train_network", diverging)
    arguments = ["train", "--variant", "hah", "--preset", "smoke", "--verbose"]
    with pytest.raises(SystemExit) as stop:
        cli.main([*arguments, "--data", str(tmp_path), "--output", str(tmp_path)])
    assert str(stop.value).startswith("keras-hebb: error: training stopped at batch 7")
    assert f"backup/ folder under {tmp_path}" in str(stop.value)
