"""Helpers for the executable AlexNet chapter.

The framework-free core (data, budget, plot, summary, timer, training) is
imported by the framework modules, which offer the same verbs:

    import d2lutils.torch as d2l        # or d2lutils.tensorflow, d2lutils.jax, d2lutils.mxnet
    device = d2l.try_gpu()
    budget = d2l.choose_budget(device)
    train_iter, test_iter = d2l.load_data_fashion_mnist(budget.batch_size, resize=224)

Importing this package imports no deep-learning framework.
"""

__version__ = "0.1.0"
