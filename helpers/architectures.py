"""Building blocks the transfer_learning notebook compares: the homework's dense head, and what a layer costs.

    dense_head(512, 5)         (N, 512) -> (N, 5): dense layers of 1024, 512, 256 and 128 units, ReLU between
    cost(module, (1, C, H, W)) (parameters, multiply-adds) of one forward pass, counted by torchinfo
"""
from torch import nn

#: The homework's head: four dense layers of 1024, 512, 256 and 128 units on ResNet50's 1 x 1 x 2048 feature map.
HOMEWORK_HEAD = (1024, 512, 256, 128)


def dense_head(in_features, num_classes, widths=HOMEWORK_HEAD):
    """A head of dense layers for the features a backbone hands its head: (N, in_features) -> (N, num_classes).

    in_features -> widths[0] -> ... -> widths[-1] -> num_classes, each hidden layer followed by a ReLU; the last
    layer gives the class scores. On a ResNet-18, in_features is 512 (`model.fc.in_features`).
    """
    layers, width_in = [], in_features
    for width in widths:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    return nn.Sequential(*layers, nn.Linear(width_in, num_classes))


def cost(module, input_size):
    """(parameters, multiply-adds) of `module` on one input of `input_size` (a shape, e.g. (1, C, H, W)), as
    torchinfo counts them: a convolution's multiply-adds are its weights (and biases) times its output positions."""
    import torchinfo
    stats = torchinfo.summary(module, input_size=tuple(input_size), device="cpu", verbose=0)
    return stats.total_params, stats.total_mult_adds
