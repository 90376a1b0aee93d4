"""`torch.optim`: placeholder until SGD and Adam land."""
