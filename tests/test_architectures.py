"""helpers.architectures: the homework's dense head, and the costs the transfer_learning notebook prints."""
import torch
from torch import nn

from helpers.architectures import HOMEWORK_HEAD, cost, dense_head


def test_the_dense_head_maps_a_resnet18s_features_through_the_homeworks_widths_to_the_classes():
    head = dense_head(512, 5)
    linears = [layer for layer in head if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [
        (512, 1024), (1024, 512), (512, 256), (256, 128), (128, 5)]
    assert HOMEWORK_HEAD == (1024, 512, 256, 128)
    assert [type(layer) for layer in head].count(nn.ReLU) == 4 and not isinstance(head[-1], nn.ReLU)
    assert head(torch.randn(3, 512)).shape == (3, 5)
    assert dense_head(2048, 10, widths=(7,))(torch.randn(2, 2048)).shape == (2, 10)


def test_cost_counts_parameters_and_multiply_adds_of_a_standard_and_a_depthwise_separable_convolution():
    c, d, side = 16, 32, 5
    standard = nn.Conv2d(c, d, 3, padding=1, bias=False)
    separable = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.Conv2d(c, d, 1, bias=False))
    assert cost(standard, (1, c, side, side)) == (9 * c * d, 9 * c * d * side * side)
    assert cost(separable, (1, c, side, side)) == (9 * c + c * d, (9 * c + c * d) * side * side)
    params, madds = cost(dense_head(512, 5), (1, 512))
    assert params == madds == sum(p.numel() for p in dense_head(512, 5).parameters())  # one use per weight
