"""Shared fixtures: the checkout, the CLI built beside the module, and a
runner that returns the CLI's output (ctest sets CAPGRAPH_EXE and
CAPGRAPH_SOURCE_DIR; run by hand, the checkout's build/ is used)."""

import io
import os
import pathlib
import subprocess

import pandas as pd
import pytest

SRC = pathlib.Path(os.environ.get("CAPGRAPH_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
EXE = pathlib.Path(os.environ.get("CAPGRAPH_EXE", SRC / "build" / "capgraph"))


@pytest.fixture(scope="session")
def src():
    return SRC


@pytest.fixture(scope="session")
def cli():
    """cli(*args, code=0) -> (stdout bytes, stderr text) of the capgraph CLI, run in the checkout."""
    if not EXE.exists():
        pytest.skip(f"the CLI is not built ({EXE})")

    def run(*args, code=0):
        r = subprocess.run([str(EXE), *map(str, args)], cwd=SRC, capture_output=True)
        assert r.returncode == code, r.stderr.decode()
        return r.stdout, r.stderr.decode()

    return run


def read_csv(data):
    """A CLI CSV with every float read back exactly (round trip)."""
    return pd.read_csv(io.BytesIO(data), float_precision="round_trip", keep_default_na=False,
                       na_values=[""])
