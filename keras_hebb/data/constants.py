"""Published facts of the datasets the networks default to, importable without
TensorFlow (the builders' default input statistics)."""

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_SHAPE = (32, 32, 3)
# CIFAR-10's per-channel training-set statistics, as published with
# torchvision's CIFAR examples (and used by the paper's code).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2471, 0.2435, 0.2616)
# MNIST's, as published with PyTorch's MNIST example (Fashion-MNIST networks
# here standardise with their own training split's).
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)
