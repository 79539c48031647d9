"""Models trained elsewhere, turned into recattn checkpoints: RecBole .pth files (`recbole`), read without running
anything they hold (`torch_file`)."""
