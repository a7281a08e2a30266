import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_commands():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)


def test_readme_holds_two_set_up_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all(command.startswith("python3 -m venv .venv && ") for command in commands)


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


# The pages whose Python examples run, in this order, in one namespace.
EXAMPLE_PAGES = ("README.md", "docs/api.md", "docs/usage.md", "docs/running.md")


def python_examples():
    """(page, example) for every ```python block of `EXAMPLE_PAGES`."""
    return [
        (page, example)
        for page in EXAMPLE_PAGES
        for example in re.findall(
            r"```python\n(.*?)\n```", (ROOT / page).read_text(), flags=re.DOTALL
        )
    ]


def test_every_page_with_python_examples_is_run():
    pages = {"README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))}
    with_examples = {p for p in pages if "```python" in (ROOT / p).read_text()}
    assert with_examples <= set(EXAMPLE_PAGES)


def test_documentation_links_resolve():
    for page in (
        "README.md",
        *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
    ):
        path = ROOT / page
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            local = target.split("#")[0]
            if local and not target.startswith("http"):
                assert (path.parent / local).exists(), f"{page}: {target}"


def tiny_classifier(hah):
    """32x32 RGB -> one conv block (the method's, or conv + ReLU) -> 4 logits."""
    import keras

    from keras_hebb.models import HaHModel, hah_block

    inputs = keras.Input((32, 32, 3))
    if hah:
        x = hah_block(inputs, 8, alpha=0.01, ratio=0.25, suffix=1)
    else:
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = HaHModel(inputs, keras.layers.Dense(4)(x), name="hah" if hah else "base")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def example_data():
    """What the README's examples take from the reader, small: a one-block
    four-class HaH network `model` and its `baseline` (AutoAttack's targeted
    DLR loss needs four classes), CIFAR-shaped splits and 28x28 grayscale
    `digits`."""
    rng = np.random.default_rng(0)

    def split(n):
        return (
            rng.uniform(size=(n, 32, 32, 3)).astype("float32"),
            rng.integers(0, 4, size=n),
        )

    names = {}
    for prefix, n in (("_train", 8), ("_test", 4), ("_val", 4), ("", 8)):
        names[f"x{prefix}"], names[f"y{prefix}"] = split(n)
    names["images"] = names["x_test"]
    names["digits"] = rng.uniform(size=(4, 28, 28, 1)).astype("float32")
    names["model"], names["baseline"] = tiny_classifier(True), tiny_classifier(False)
    return names


@pytest.mark.slow
def test_python_examples_run(tmp_path, monkeypatch):
    """Each example of the README and the docs runs, in order, in one
    namespace; the data and models it takes from the reader are small ones,
    given again before each example."""
    import keras

    monkeypatch.chdir(tmp_path)
    keras.config.disable_interactive_logging()
    examples = python_examples()
    assert len(examples) >= 7 and examples[0][0] == "README.md"
    namespace = {}
    try:
        for index, (page, example) in enumerate(examples):
            namespace.update(example_data())
            code = compile(example, f"{page} python example {index + 1}", "exec")
            exec(code, namespace)  # noqa: S102 (running the pages' own code is the test)
    finally:
        keras.config.enable_interactive_logging()
