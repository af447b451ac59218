"""Run by ``test_flax_oracle.py`` in a process of its own: JAX starts threads when imported, and
the rest of the suite forks worker processes, which must not inherit them.

Reads fixture oracles (path, build, input) as JSON on stdin; prints, for each, the error Flax
raised or the parameter count of every module of the ``params`` collection."""

from __future__ import annotations

import importlib.util
import json
import sys

import jax
import jax.numpy as jnp

#: What ``init`` raises for shapes that do not fit: a TypeError for operands that do not
#: broadcast, a ValueError from Flax's own checks.
MODEL_ERRORS = (TypeError, ValueError)


def module_sizes(tree):
    """The number of parameters of each module of a params tree (a dict holding arrays)."""
    arrays = [leaf for leaf in tree.values() if not isinstance(leaf, dict)]
    own = [sum(int(leaf.size) for leaf in arrays)] if arrays else []
    return own + [size for child in tree.values() if isinstance(child, dict) for size in module_sizes(child)]


def run(path: str, build: str, shape):
    spec = importlib.util.spec_from_file_location("flax_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = eval(compile(build, path, "eval"), dict(vars(module)))
    try:
        params = model.init(jax.random.PRNGKey(0), jnp.ones(shape))["params"]
    except MODEL_ERRORS as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return {"error": None, "modules": module_sizes(params),
            "total": sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(params))}


if __name__ == "__main__":
    requests = json.load(sys.stdin)
    json.dump([run(*request) for request in requests], sys.stdout)
