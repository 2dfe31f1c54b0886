// capgraph/specs/spec_writer.hpp — writing a ModelSpec back as a spec file.
//
// A small deterministic YAML emitter for format v1 (docs/spec-format.md): the same
// ModelSpec always gives the same bytes; numbers are written in their
// shortest form that reads back as the same double, so load(write(spec))
// reproduces every value exactly. Comments and the layout of an original
// file are not kept. Used by `capgraph fit -o fitted.yaml`.
#pragma once

#include <string>

#include "graph/model_spec.hpp"

namespace capgraph::specs {

/// The spec as YAML text (format v1). `header_comment` lines are written
/// first, each prefixed with "# ".
std::string write_spec(const ModelSpec& spec, const std::string& header_comment = {});

}  // namespace capgraph::specs
