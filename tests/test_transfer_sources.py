"""helpers.transfer's sources: a network reused through an earlier block (cut_after), the experiment that reuses the
clothes network through layer3, and the feature-depth curve."""
import pytest
import torch

from helpers import transfer


@pytest.fixture
def tiny_budget(monkeypatch, tmp_path):
    """The grading budget (a few images, a quickly trained source network) and a private cache folder."""
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "1")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("block", list(transfer.BLOCKS))
def test_a_network_cut_after_a_block_hands_its_head_that_blocks_channels(block):
    torch.manual_seed(0)
    model = transfer.cut_after(transfer.resnet18(5), block)
    assert model.fc.in_features == transfer.BLOCKS[block] and model.fc.out_features == 5
    images = torch.randn(2, 3, 32, 32)
    assert model(images).shape == (2, 5)
    features = transfer.backbone_features(model, (images * 40 + 128).clamp(0, 255).to(torch.uint8),
                                          lambda x: x.float() / 255)
    assert features.shape == (2, transfer.BLOCKS[block])
    kept = [name for name in transfer.BLOCKS if name != "stem"][:list(transfer.BLOCKS).index(block)]
    assert all(not isinstance(getattr(model, name), torch.nn.Identity) for name in kept)
    assert sum(isinstance(getattr(model, name), torch.nn.Identity) for name in ("layer1", "layer2", "layer3",
                                                                              "layer4")) == 4 - len(kept)


def test_the_features_through_a_block_are_the_whole_networks_features_at_that_block():
    torch.manual_seed(0)
    whole = transfer.resnet18(5).eval()
    cut = transfer.cut_after(transfer.resnet18(5), "layer2")
    cut.load_state_dict({k: v for k, v in whole.state_dict().items() if k.startswith(("conv1", "bn1", "layer1",
                                                                                         "layer2"))}, strict=False)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = whole.layer2(whole.layer1(whole.maxpool(whole.relu(whole.bn1(whole.conv1(x)))))).mean(dim=(2, 3))
        cut.eval().fc = torch.nn.Identity()
        assert torch.allclose(cut(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="unknown block 'layer5'"):
        transfer.cut_after(transfer.resnet18(5), "layer5")


def test_the_layer3_experiment_reuses_the_clothes_network_through_layer3(tiny_budget):
    early = transfer.prepare_experiment("fashion_halves_layer3", labels_per_class=2, test_per_class=3)
    whole = transfer.prepare_experiment("fashion_halves", labels_per_class=2, test_per_class=3)
    assert early.block == "layer3" and whole.block == "layer4"
    assert "stem to layer3 reused" in early.task and "whole network reused" in whole.task
    assert early.class_names == whole.class_names and torch.equal(early.train[0], whole.train[0])
    pretrained, scratch = early.pretrained(), early.scratch()
    assert isinstance(pretrained.layer4, torch.nn.Identity) and isinstance(scratch.layer4, torch.nn.Identity)
    assert pretrained.fc.in_features == scratch.fc.in_features == 256
    # The same source weights through layer3, an untrained network beside them.
    full = whole.pretrained().state_dict()
    assert all(torch.equal(v, full[k]) for k, v in pretrained.state_dict().items() if not k.startswith("fc."))
    assert not torch.equal(scratch.conv1.weight, pretrained.conv1.weight)


def test_nearest_mean_by_block_scores_every_block(tiny_budget):
    experiment = transfer.prepare_experiment("fashion_halves", labels_per_class=2, test_per_class=3)
    scores = transfer.nearest_mean_by_block(experiment.pretrained(), experiment)
    assert list(scores) == list(transfer.BLOCKS)
    assert all(0 <= score <= 1 for score in scores.values())
    # The scores are nearest_mean_accuracy on each block's pooled features.
    model = transfer.cut_after(experiment.pretrained(), "layer1")
    features = {split: transfer.backbone_features(model, getattr(experiment, split)[0], experiment.transform)
                for split in ("train", "test")}
    assert scores["layer1"] == transfer.nearest_mean_accuracy(features["train"], experiment.train[1],
                                                              features["test"], experiment.test[1])
