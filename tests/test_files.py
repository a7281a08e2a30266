import json

import pytest

from keras_hebb.files import write_atomically, write_json


def test_a_crash_while_writing_keeps_the_previous_complete_file(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"accuracy": 0.5})

    def crash_halfway(temporary):
        temporary.write_text('{"accuracy": 0.')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, crash_halfway)
    assert json.loads(path.read_text()) == {"accuracy": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_folder_is_replaced_only_once_complete(tmp_path):
    def write(folder):
        folder.mkdir()
        (folder / "weights.h5").write_text("new")

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "old.h5").write_text("old")
    write_atomically(tmp_path / "model", write)
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["weights.h5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
