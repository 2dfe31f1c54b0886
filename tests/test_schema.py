#!/usr/bin/env python3
"""Checks specs/capgraph.schema.json (JSON Schema draft 2020-12).

- the schema itself is a valid draft 2020-12 schema;
- every examples/*.yaml and a few inline specs (the docs/spec-format.md example among
  them) are valid against it;
- known-bad documents are rejected;
- over the bad-input corpus (tests/bad/*.yaml), the schema rejects every
  file except the listed ones, which only the loader can catch (references,
  cycles, ordering, duplicates, ...), so the two stay in step.

Usage: test_schema.py [PROJECT_SOURCE_DIR]   (default: the parent of tests/)
Exit status 0 on success, 1 on a failed check (each failure printed).
"""

import json
import pathlib
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, where 1e8 (no dot) is a string; YAML 1.2, the
    language server and capgraph read it as a number."""


Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def load_yaml(text):
    return yaml.load(text, Loader=Yaml12Loader)


DESIGN_EXAMPLE = """
capgraph: 1
name: Emoji movie
description: free text
threshold: 0.5
scale:
  axis: params
  range: [1e8, 1e13]
  points: 61
  tokens_per_param: 20
  data_limit: 3e14
  law: chinchilla
skills:
  emoji_semantics:
    label: Emoji -> concept
    group: perception
    description: free text
    curve: {logistic: {mid: 2e9, slope: 1.2}}
    floor: 0.0
    ceiling: 1.0
    shared: false
  title_recall:
    curve: {power_law: {c: 5e8, alpha: 0.3}}
  movie_facts:
    curve: {points: [[1e8, 0.05], [1e9, 0.2], [1e10, 0.5], [1e11, 0.8]]}
tasks:
  decode_clues:
    all: [{emoji_semantics: 3}]
  emoji_movie:
    all: [decode_clues, movie_facts, title_recall]
    guess: 0.0
    threshold: 0.5
    metrics: [exact_match, partial_credit, log_likelihood, {multiple_choice: 5}, {pass_at: 10}]
"""

EVERY_FEATURE = """
capgraph: 1
name: every feature
scale:
  axis: compute
  range: [1e20, 1e25]
  points: 5
  data_limit: ~
  law: {E: 0, A: 400, B: 410, alpha: 0.34, beta: 0.28}
skills:
  c: {curve: {chinchilla: {weight: 0.5}}, shared: true}
  k: {curve: {constant: 1}}
  n.e-g: {curve: {logistic: {mid: 1e9, slope: -2}}}
tasks:
  al: {at_least: {k: 3, of: [{c: 2}, k]}}
  bo: {best_of: {n: 8, of: al}, metrics: []}
  mn: {mean: [{al: 0.5}, bo], guess: 0.25}
  an: {any: [{c: 1.5}, n.e-g], metrics: [{pass_at: 1}, {multiple_choice: 2}]}
"""

MINIMAL = "capgraph: 1\nname: m\nskills:\n  a: {curve: {constant: 0.5}}\n"

# Each must be rejected by the schema.
KNOWN_BAD = {
    "unknown top-level key": MINIMAL + "nmae: x\n",
    "missing name": "capgraph: 1\nskills:\n  a: {curve: {constant: 0.5}}\n",
    "version 2": MINIMAL.replace("capgraph: 1", "capgraph: 2"),
    "constant 1.5": MINIMAL.replace("0.5", "1.5"),
    "two curves": "capgraph: 1\nname: m\nskills:\n  a: {curve: {constant: 0.5, chinchilla: {weight: 1}}}\n",
    "two gates": MINIMAL + "tasks:\n  t: {all: [a], any: [a]}\n",
    "no gate": MINIMAL + "tasks:\n  t: {label: T}\n",
    "non-integer uses under at_least": MINIMAL + "tasks:\n  t: {at_least: {k: 1, of: [{a: 2.5}]}}\n",
    "count under best_of": MINIMAL + "tasks:\n  t: {best_of: {n: 2, of: {a: 2}}}\n",
    "multiple_choice 1": MINIMAL + "tasks:\n  t: {all: [a], metrics: [{multiple_choice: 1}]}\n",
    "bad id": "capgraph: 1\nname: m\nskills:\n  9a: {curve: {constant: 0.5}}\n",
    "no skills": "capgraph: 1\nname: m\nskills: {}\n",
}

# Corpus files the schema accepts: only the loader can tell they are wrong.
# (PyYAML also silently expands aliases, keeps the last duplicate key, reads
# `yes` as true and `.nan` as a number NaN, which compares as in range.)
SCHEMA_CANNOT_SEE = {
    "anchor_alias",
    "at_least_k_too_large",
    "best_of_n_over_limit",  # limits that a flag raises
    "points_over_limit_huge",
    "scale_tokens_overflow",  # derived from several keys
    "cycle",
    "duplicate_id",
    "duplicate_yaml_key",
    "floor_above_ceiling",
    "inf_value",
    "nan_value",
    "points_not_increasing",
    "reversed_range",
    "self_reference",
    "shared_not_boolean",
    "unknown_reference",
}


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent
    schema = json.loads((root / "specs" / "capgraph.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []
    checked = 0

    def errors_of(doc):
        return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))

    # Valid documents.
    valid = {"spec-format example": DESIGN_EXAMPLE, "every feature": EVERY_FEATURE, "minimal": MINIMAL}
    for path in sorted((root / "examples").glob("*.yaml")):
        valid[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    for name, text in valid.items():
        checked += 1
        for e in errors_of(load_yaml(text)):
            failures.append(f"{name}: valid spec rejected at /{'/'.join(map(str, e.absolute_path))}: {e.message}")

    # Known-bad documents.
    for name, text in KNOWN_BAD.items():
        checked += 1
        if not errors_of(load_yaml(text)):
            failures.append(f"known-bad document accepted: {name}")

    # The corpus.
    corpus = sorted((root / "tests" / "bad").glob("*.yaml"))
    accepted = set()
    for path in corpus:
        try:
            doc = load_yaml(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError):
            continue  # not YAML at all: nothing for a schema to say
        checked += 1
        if not errors_of(doc):
            accepted.add(path.stem)
    for stem in sorted(accepted - SCHEMA_CANNOT_SEE):
        failures.append(f"tests/bad/{stem}.yaml: accepted by the schema")
    for stem in sorted(SCHEMA_CANNOT_SEE - accepted):
        if (root / "tests" / "bad" / f"{stem}.yaml").exists():
            failures.append(f"tests/bad/{stem}.yaml: now rejected by the schema; remove it from SCHEMA_CANNOT_SEE")

    for f in failures:
        print("FAIL:", f)
    examples = len(list((root / "examples").glob("*.yaml")))
    print(f"{checked} documents checked ({examples} examples, {len(corpus)} corpus files); {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
