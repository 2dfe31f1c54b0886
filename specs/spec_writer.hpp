// capgraph/specs/spec_writer.hpp — writing a ModelSpec back as a spec file.
//
// Format v1 (docs/spec-format.md) through yaml-cpp's emitter (reading stays
// on libyaml, docs/decisions.md): the same ModelSpec always gives the same
// bytes, in a fixed key order (header comment, capgraph, name, description,
// threshold, scale, skills, tasks, fit; nodes in spec order); numbers are written
// in their shortest form that reads back as the same double, so
// load(write(spec)) evaluates bit for bit as the spec. Comments and the
// layout of an original file are not kept. Used by `capgraph fit -o`.
#pragma once

#include <string>

#include "../graph/model_spec.hpp"

namespace capgraph::specs {

/// The spec as YAML text (format v1). `header_comment` lines are written
/// first, each prefixed with "# ".
std::string write_spec(const ModelSpec& spec, const std::string& header_comment = {});

}  // namespace capgraph::specs
