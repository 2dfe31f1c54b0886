"""examples/python/quickstart.py runs as a researcher would run it."""

import os
import subprocess
import sys

import pathlib

import pytest

import capgraph


def test_quickstart_example(src, tmp_path):
    pytest.importorskip("matplotlib")
    # The package under test, wherever the script runs from.
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(pathlib.Path(capgraph.__file__).resolve().parents[1]))
    r = subprocess.run([sys.executable, str(src / "examples/python/quickstart.py"),
                        str(src / "examples/emoji_movie.yaml"), "-o", str(tmp_path / "curves.png")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert "emoji_semantics" in r.stdout and "exact_match" in r.stdout
