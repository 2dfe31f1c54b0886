"""Bad specs and bad data: the CLI's messages, as exceptions."""

import pathlib

import pandas as pd
import pytest

import capgraph

BAD = pathlib.Path(__file__).resolve().parents[2] / "tests" / "bad"


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_spec_error_is_the_cli_message(cli, src, path, monkeypatch):
    rel = path.relative_to(src)
    _, err = cli("check", rel, code=1)
    monkeypatch.chdir(src)  # the file named as the CLI names it
    with pytest.raises(capgraph.SpecError) as e:
        capgraph.load(rel)
    assert str(e.value) + "\n" == err
    assert e.value.errors and all(len(t) == 3 for t in e.value.errors)
    assert [f"{rel}:{line}:{col}: error: {msg}" for line, col, msg in e.value.errors] == err.splitlines()


def test_loads_names_the_text(src):
    with pytest.raises(capgraph.SpecError) as e:
        capgraph.loads((BAD / "cycle.yaml").read_text(), name="mine.yaml")
    assert str(e.value) == "mine.yaml:6:3: error: cycle: x -> y -> z -> x"
    assert e.value.errors == [(6, 3, "cycle: x -> y -> z -> x")]
    assert isinstance(e.value, ValueError)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        capgraph.load(tmp_path / "nope.yaml")


def test_limits(src):
    with pytest.raises(capgraph.SpecError, match="error"):
        capgraph.load(src / "examples/emoji_movie.yaml", max_bytes=100)


def test_bad_observations(tmp_path):
    df = pd.DataFrame({"task": ["a", "a"], "family": ["F", "F"], "params": [1e9, -1.0], "metric": ["acc", "acc"],
                       "score": [0.1, 0.2]})
    with pytest.raises(capgraph.DataError) as e:
        capgraph.analyze(df)
    assert e.value.errors and e.value.errors[0].startswith("<DataFrame>:3: error:")
    with pytest.raises(OSError):
        capgraph.analyze(tmp_path / "none.csv")


def test_fit_error(src):
    m = capgraph.load(src / "examples/arithmetic_open_models.yaml")
    with pytest.raises(capgraph.FitError):
        capgraph.fit(m, src / "examples/data/arithmetic_open_models.csv")  # several families, none chosen


def test_model_error_for_too_many_shared_skills(src):
    m = capgraph.load(src / "examples/fault_tree_lift.yaml")
    with pytest.raises(capgraph.ModelError):
        m.p(1e10, max_shared_expanded=1)


def test_public_api_is_documented():
    for name in capgraph.__all__:
        assert getattr(capgraph, name).__doc__, name
    for name in dir(capgraph.Model):
        if not name.startswith("_"):
            assert getattr(capgraph.Model, name).__doc__, name


def test_backtest_error(src):
    m = capgraph.load(src / "examples/arithmetic_open_models.yaml")
    df = pd.read_csv(src / "examples/data/arithmetic_open_models.csv")
    few = df[df.params <= sorted(set(df.params))[2]]  # three model scales: a backtest needs 4
    with pytest.raises(capgraph.FitError, match="no family has enough points"):
        capgraph.backtest(m, few)
