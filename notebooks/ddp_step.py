"""One data-parallel training step with PyTorch's DistributedDataParallel (DDP).

Run by two_gpus.ipynb through torchrun, which starts one process per
replica and tells each its rank and how many there are:

    torchrun --nproc-per-node 2 ddp_step.py BATCH_PER_REPLICA WEIGHTS_OUT

Every replica builds the chapter's AlexNet from the same seed (DDP would copy
rank 0's weights to the others anyway), takes its own slice of one batch of
Fashion-MNIST test images and makes one SGD step. During the backward pass DDP
averages the gradients over the replicas (an all-reduce), so every replica
applies the same update. Rank 0 saves the weights after the step.
"""

import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

import d2lutils.torch as d2l
from d2lutils.notebooks import run_tagged_cell

HERE = Path(__file__).resolve().parent


def main(batch_per_replica, weights_out):
    # One GPU per replica where there are enough, talking through NCCL; otherwise
    # every replica on the CPU, talking through gloo (two replicas cannot share
    # one GPU under NCCL).
    num_replicas = int(os.environ["WORLD_SIZE"])  # set by torchrun
    backend = "nccl" if torch.cuda.device_count() >= num_replicas else "gloo"
    dist.init_process_group(backend)
    rank = dist.get_rank()
    # Compared with a float32 step: no TensorFloat-32 convolutions on A100s and later.
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(f"cuda:{rank}" if backend == "nccl" else "cpu")

    alexnet = run_tagged_cell(HERE / "alexnet_pytorch.ipynb", "alexnet-definition",
                              nn=nn)["alexnet"]
    torch.manual_seed(0)
    net = alexnet().to(device)
    # Dropout off: each replica would draw its own masks, so the step could only
    # equal the single-replica one on average, not number for number.
    net.eval()
    model = DistributedDataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    # The whole batch, as the single replica in the notebook sees it; this rank
    # keeps only its slice.
    batch_size = num_replicas * batch_per_replica
    _, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224, num_train=1,
                                               num_test=batch_size, device=device)
    X, y = next(iter(test_iter))
    mine = slice(rank * batch_per_replica, (rank + 1) * batch_per_replica)

    loss = F.cross_entropy(model(X[mine]), y[mine])  # the mean over this replica's slice
    loss.backward()  # DDP averages the gradients over the replicas here (an all-reduce)
    optimizer.step()

    if rank == 0:
        torch.save({name: p.detach().cpu() for name, p in net.state_dict().items()},
                   weights_out)
        print(f"{num_replicas} replicas ({backend}), {batch_per_replica} images each: "
              f"one step done")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
