"""Reproduce the paper's baseline-against-HaH comparison under a named preset.

Same as the `keras-hebb run` command:

    python experiments/reproduce.py --preset cpu --data ../shared/data/cifar10-jpeg \
        --output experiments/results/cpu
"""

import sys

from keras_hebb.run.cli import main

if __name__ == "__main__":
    main(["run", *sys.argv[1:]])
