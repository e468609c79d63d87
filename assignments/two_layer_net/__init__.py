"""two_layer_net: forward, backward, training and tuning of a two-layer network on real images."""
