// capgraph/fuzz/fuzz_map.cpp — libFuzzer target: render_map on tiny models
// whose text (spec name, labels, groups, descriptions, ids) and shape come
// from the input. The map must always be drawn (or refused with a clean
// error), and an SVG must hold only valid UTF-8 and XML 1.0 characters,
// with no script: whatever bytes a spec held.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_invariants.hpp"
#include "fuzz/xml_chars.hpp"
#include "graph/importance.hpp"
#include "graph/model.hpp"
#include "render/escape.hpp"
#include "render/map.hpp"

using namespace capgraph;

namespace {

// An id of the spec grammar [A-Za-z_][A-Za-z0-9_.-]*, unique by its suffix.
std::string make_id(FuzzedDataProvider& in, std::size_t index) {
  static constexpr char kFirst[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
  static constexpr char kRest[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  std::string id(1, kFirst[in.ConsumeIntegralInRange<std::size_t>(0, sizeof kFirst - 2)]);
  const std::size_t len = in.ConsumeIntegralInRange<std::size_t>(0, 6);
  for (std::size_t i = 0; i < len; ++i) id += kRest[in.ConsumeIntegralInRange<std::size_t>(0, sizeof kRest - 2)];
  return id + "_" + std::to_string(index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // text, not volume: keeps every input fast
  FuzzedDataProvider in(data, size);
  ModelSpec spec;
  spec.name = in.ConsumeRandomLengthString(64);
  spec.description = in.ConsumeRandomLengthString(64);
  const std::size_t skills = in.ConsumeIntegralInRange<std::size_t>(1, 4);
  const std::size_t tasks = in.ConsumeIntegralInRange<std::size_t>(1, 3);
  for (std::size_t i = 0; i < skills + tasks; ++i) {
    NodeSpec n;
    n.id = make_id(in, i);
    n.label = in.ConsumeRandomLengthString(48);
    n.group = in.ConsumeRandomLengthString(16);
    n.description = in.ConsumeRandomLengthString(48);
    if (i < skills) {
      n.curve.kind = CurveKind::constant;
      n.curve.value = in.ConsumeProbability<double>();
      n.shared = in.ConsumeBool() && in.ConsumeBool();
    } else {
      n.is_task = true;
      n.gate = in.PickValueInArray({GateKind::all, GateKind::any, GateKind::mean});
      const std::size_t refs = in.ConsumeIntegralInRange<std::size_t>(1, 3);
      for (std::size_t r = 0; r < refs; ++r)
        n.uses.push_back(Use{in.ConsumeIntegralInRange<std::size_t>(0, i - 1),
                             static_cast<double>(in.ConsumeIntegralInRange(1, 3)), {}});
    }
    spec.nodes.push_back(std::move(n));
  }
  render::MapOptions mo;
  mo.format = in.ConsumeBool() ? render::MapFormat::svg : render::MapFormat::dot;
  mo.direction = in.PickValueInArray({render::MapDirection::bottom_to_top, render::MapDirection::top_to_bottom,
                                      render::MapDirection::left_to_right, render::MapDirection::right_to_left});
  mo.clusters = in.ConsumeBool();
  mo.legend = in.ConsumeBool();
  if (in.ConsumeBool()) mo.title = in.ConsumeRandomLengthString(32);
  const bool overlay = in.ConsumeBool();
  try {
    const Model model = Model::compile(std::move(spec));
    const double x = 1e10;
    if (overlay) {
      const std::size_t task = model.tasks().back();
      mo.overlay = render::overlay_from_importance(importance(model, task, x), render::BottleneckMeasure::potential,
                                                   model.size());
    }
    const render::MapResult r = render::render_map(model, x, mo);
    if (r.data.empty()) fuzz::violated("empty map", 0);
    if (mo.format == render::MapFormat::svg) {
      if (render::valid_utf8(r.data) != r.data) fuzz::violated("SVG map is not valid UTF-8", 0);
      if (!fuzz::xml_chars_only(r.data)) fuzz::violated("SVG map holds a character XML 1.0 forbids", 0);
      if (r.data.find("<script") != std::string::npos) fuzz::violated("SVG map holds a script", 0);
      if (r.data.find("</svg>") == std::string::npos) fuzz::violated("SVG map is not closed", 0);
    }
  } catch (const ModelError&) {
  } catch (const render::GraphvizError&) {
  }
  return 0;
}
