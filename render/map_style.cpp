// capgraph/render/map_style.cpp — see map_style.hpp.
#include "render/map_style.hpp"

#include <algorithm>
#include <cmath>

#include "text/number_format.hpp"

namespace capgraph::render {

namespace {

// matplotlib's viridis, 256 entries as 0xRRGGBB (rounded from the float
// table of the mpl-colormaps project by Nathaniel J. Smith, Stefan van der
// Walt and Eric Firing, released under CC0).
constexpr std::uint32_t kViridis[256] = {
    0x440154, 0x440256, 0x450457, 0x450559, 0x46075a, 0x46085c, 0x460a5d, 0x460b5e,
    0x470d60, 0x470e61, 0x471063, 0x471164, 0x471365, 0x481467, 0x481668, 0x481769,
    0x48186a, 0x481a6c, 0x481b6d, 0x481c6e, 0x481d6f, 0x481f70, 0x482071, 0x482173,
    0x482374, 0x482475, 0x482576, 0x482677, 0x482878, 0x482979, 0x472a7a, 0x472c7a,
    0x472d7b, 0x472e7c, 0x472f7d, 0x46307e, 0x46327e, 0x46337f, 0x463480, 0x453581,
    0x453781, 0x453882, 0x443983, 0x443a83, 0x443b84, 0x433d84, 0x433e85, 0x423f85,
    0x424086, 0x424186, 0x414287, 0x414487, 0x404588, 0x404688, 0x3f4788, 0x3f4889,
    0x3e4989, 0x3e4a89, 0x3e4c8a, 0x3d4d8a, 0x3d4e8a, 0x3c4f8a, 0x3c508b, 0x3b518b,
    0x3b528b, 0x3a538b, 0x3a548c, 0x39558c, 0x39568c, 0x38588c, 0x38598c, 0x375a8c,
    0x375b8d, 0x365c8d, 0x365d8d, 0x355e8d, 0x355f8d, 0x34608d, 0x34618d, 0x33628d,
    0x33638d, 0x32648e, 0x32658e, 0x31668e, 0x31678e, 0x31688e, 0x30698e, 0x306a8e,
    0x2f6b8e, 0x2f6c8e, 0x2e6d8e, 0x2e6e8e, 0x2e6f8e, 0x2d708e, 0x2d718e, 0x2c718e,
    0x2c728e, 0x2c738e, 0x2b748e, 0x2b758e, 0x2a768e, 0x2a778e, 0x2a788e, 0x29798e,
    0x297a8e, 0x297b8e, 0x287c8e, 0x287d8e, 0x277e8e, 0x277f8e, 0x27808e, 0x26818e,
    0x26828e, 0x26828e, 0x25838e, 0x25848e, 0x25858e, 0x24868e, 0x24878e, 0x23888e,
    0x23898e, 0x238a8d, 0x228b8d, 0x228c8d, 0x228d8d, 0x218e8d, 0x218f8d, 0x21908d,
    0x21918c, 0x20928c, 0x20928c, 0x20938c, 0x1f948c, 0x1f958b, 0x1f968b, 0x1f978b,
    0x1f988b, 0x1f998a, 0x1f9a8a, 0x1e9b8a, 0x1e9c89, 0x1e9d89, 0x1f9e89, 0x1f9f88,
    0x1fa088, 0x1fa188, 0x1fa187, 0x1fa287, 0x20a386, 0x20a486, 0x21a585, 0x21a685,
    0x22a785, 0x22a884, 0x23a983, 0x24aa83, 0x25ab82, 0x25ac82, 0x26ad81, 0x27ad81,
    0x28ae80, 0x29af7f, 0x2ab07f, 0x2cb17e, 0x2db27d, 0x2eb37c, 0x2fb47c, 0x31b57b,
    0x32b67a, 0x34b679, 0x35b779, 0x37b878, 0x38b977, 0x3aba76, 0x3bbb75, 0x3dbc74,
    0x3fbc73, 0x40bd72, 0x42be71, 0x44bf70, 0x46c06f, 0x48c16e, 0x4ac16d, 0x4cc26c,
    0x4ec36b, 0x50c46a, 0x52c569, 0x54c568, 0x56c667, 0x58c765, 0x5ac864, 0x5cc863,
    0x5ec962, 0x60ca60, 0x63cb5f, 0x65cb5e, 0x67cc5c, 0x69cd5b, 0x6ccd5a, 0x6ece58,
    0x70cf57, 0x73d056, 0x75d054, 0x77d153, 0x7ad151, 0x7cd250, 0x7fd34e, 0x81d34d,
    0x84d44b, 0x86d549, 0x89d548, 0x8bd646, 0x8ed645, 0x90d743, 0x93d741, 0x95d840,
    0x98d83e, 0x9bd93c, 0x9dd93b, 0xa0da39, 0xa2da37, 0xa5db36, 0xa8db34, 0xaadc32,
    0xaddc30, 0xb0dd2f, 0xb2dd2d, 0xb5de2b, 0xb8de29, 0xbade28, 0xbddf26, 0xc0df25,
    0xc2df23, 0xc5e021, 0xc8e020, 0xcae11f, 0xcde11d, 0xd0e11c, 0xd2e21b, 0xd5e21a,
    0xd8e219, 0xdae319, 0xdde318, 0xdfe318, 0xe2e418, 0xe5e419, 0xe7e419, 0xeae51a,
    0xece51b, 0xefe51c, 0xf1e51d, 0xf4e61e, 0xf6e620, 0xf8e621, 0xfbe723, 0xfde725,
};

Rgb unpack(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>((v >> 8) & 0xff),
          static_cast<std::uint8_t>(v & 0xff)};
}

double channel_luminance(std::uint8_t c) {
  const double s = c / 255.0;
  return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string count_text(double n) {
  if (n == std::floor(n) && n < 1e15) return std::to_string(static_cast<long long>(n));
  return text::compact(n, 3);
}

}  // namespace

std::string Rgb::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s = "#";
  for (std::uint8_t c : {r, g, b}) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

Rgb viridis(double t) {
  if (!(t > 0)) t = 0;  // also NaN
  if (t > 1) t = 1;
  const double pos = t * 255.0;
  const auto i = static_cast<std::size_t>(std::min(254.0, std::floor(pos)));
  const double f = pos - static_cast<double>(i);
  const Rgb a = unpack(kViridis[i]), b = unpack(kViridis[i + 1]);
  auto mix = [f](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + f * (static_cast<double>(y) - x)));
  };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

double relative_luminance(Rgb c) {
  return 0.2126 * channel_luminance(c.r) + 0.7152 * channel_luminance(c.g) + 0.0722 * channel_luminance(c.b);
}

double contrast_ratio(Rgb a, Rgb b) {
  double la = relative_luminance(a), lb = relative_luminance(b);
  if (la < lb) std::swap(la, lb);
  return (la + 0.05) / (lb + 0.05);
}

Rgb readable_text_on(Rgb fill) {
  const Rgb black{0, 0, 0}, white{255, 255, 255};
  return contrast_ratio(fill, black) >= contrast_ratio(fill, white) ? black : white;
}

const std::vector<Rgb>& okabe_ito() {
  static const std::vector<Rgb> palette = {
      {0x00, 0x00, 0x00}, {0xe6, 0x9f, 0x00}, {0x56, 0xb4, 0xe9}, {0x00, 0x9e, 0x73},
      {0xf0, 0xe4, 0x42}, {0x00, 0x72, 0xb2}, {0xd5, 0x5e, 0x00}, {0xcc, 0x79, 0xa7},
  };
  return palette;
}

std::string gate_text(const NodeSpec& task) {
  double total = 0;
  for (const Use& u : task.uses) total += u.count;
  switch (task.gate) {
    case GateKind::all: return "all of " + count_text(total);
    case GateKind::any: return "any of " + count_text(total);
    case GateKind::at_least: return "at least " + std::to_string(task.k) + " of " + count_text(total);
    case GateKind::best_of: return "best of " + std::to_string(task.best_n);
    case GateKind::mean: return "mean of " + std::to_string(task.uses.size());
  }
  return "";
}

std::string curve_text(const Curve& c) {
  switch (c.kind) {
    case CurveKind::logistic:
      return "logistic(mid = " + text::compact(c.mid, 4) + ", slope = " + text::compact(c.slope, 4) + ")";
    case CurveKind::power_law:
      return "power_law(c = " + text::compact(c.c, 4) + ", alpha = " + text::compact(c.alpha, 4) + ")";
    case CurveKind::chinchilla:
      return "chinchilla(weight = " + text::compact(c.weight, 4) + ")";
    case CurveKind::constant:
      return "constant(" + text::compact(c.value, 4) + ")";
    case CurveKind::points: {
      std::vector<std::string> knots;
      for (const auto& [n, p] : c.knots) knots.push_back(text::compact(n, 4) + " -> " + text::compact(p, 4));
      return "points(" + join(knots, ", ") + ")";
    }
  }
  return "";
}

std::string MapStyle::p_text(double p) const {
  if (!(p > 0)) return "P = 0";
  if (p >= 1) return "P = 1";
  const double scale = std::pow(10.0, p_digits);
  if (p < 1.0 / scale) return "P = " + text::compact(p, 2);
  if (p > 1 - 0.5 / scale) {
    // Would round to 1: show how close, without claiming certainty.
    if (p > 0.9999) return "P > 0.9999";
    return "P = " + text::fixed(p, 4);
  }
  return "P = " + text::fixed(p, p_digits);
}

std::vector<std::string> wrap_words(const std::string& text, std::size_t width, std::size_t max_lines) {
  if (width == 0 || text.size() <= width) return {text};
  std::vector<std::string> words;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  // Greedy filling, then balance: the same number of lines with the widest
  // line as narrow as possible (a long first line over a one-word second
  // reads badly).
  auto fill = [&](std::size_t w) {
    std::vector<std::string> lines;
    for (const std::string& word : words) {
      if (!lines.empty() && lines.back().size() + 1 + word.size() <= w) lines.back() += " " + word;
      else lines.push_back(word);
    }
    return lines;
  };
  std::vector<std::string> lines = fill(width);
  if (lines.size() > max_lines) {  // keep the line count: widen instead
    std::size_t w = width;
    while (lines.size() > max_lines) lines = fill(++w);
  }
  for (std::size_t w = 1; w < width; ++w) {
    std::vector<std::string> tighter = fill(w);
    if (tighter.size() == lines.size()) return tighter;
  }
  return lines;
}

NodeLook MapStyle::node(const NodeFacts& f) const {
  NodeLook look;
  look.fill = fill_for(f.p);
  look.font_color = readable_text_on(look.fill);
  look.outline = Rgb{0x33, 0x33, 0x33};
  std::vector<std::string> tip;

  if (!f.spec) {  // a collapsed group
    look.shape = "folder";
    look.style = "filled";
    look.css_class = "group";
    look.label_lines = {f.group.empty() ? std::string("(no group)") : f.group,
                        std::to_string(f.members) + " nodes",
                        "median " + p_text(f.p)};
    tip.push_back("group " + f.group + ": " + std::to_string(f.members) + " nodes, collapsed");
    tip.push_back("median P = " + text::compact(f.p, 4) + ", range " + text::compact(f.p_min, 4) + " .. " +
                  text::compact(f.p_max, 4) + " at " + f.scale_text);
    look.tooltip = join(tip, "\n");
    return look;
  }

  const NodeSpec& n = *f.spec;
  for (std::string& line : wrap_words(n.display_name(), wrap_chars, 3)) look.label_lines.push_back(std::move(line));
  if (n.is_task && show_gate) look.label_lines.push_back(gate_text(n));
  look.label_lines.push_back(p_text(f.p));
  if (f.hidden_children > 0) look.label_lines.push_back("+" + std::to_string(f.hidden_children) + " hidden");

  look.shape = n.is_task ? "box" : "ellipse";
  look.style = n.is_task ? "filled,rounded" : "filled";
  look.css_class = n.is_task ? "task" : "skill";

  tip.push_back(n.id + (n.is_task ? " (task)" : " (skill)") + (n.label.empty() ? "" : ": " + n.label));
  if (!n.group.empty()) tip.push_back("group: " + n.group);
  tip.push_back("P = " + text::compact(f.p, 4) + " (ln P = " + text::compact(f.log_p, 4) + ") at " + f.scale_text);
  if (n.is_task) {
    tip.push_back(gate_text(n) + ": " + join(f.children, ", "));
    if (n.guess > 0) tip.push_back("guess = " + text::compact(n.guess, 4));
    for (const auto& [label, value] : f.metrics) tip.push_back(label + " = " + text::compact(value, 4));
    if (f.threshold) tip.push_back("threshold = " + text::compact(*f.threshold, 4));
  } else {
    tip.push_back("curve: " + curve_text(n.curve));
    if (n.floor != 0 || n.ceiling != 1)
      tip.push_back("floor = " + text::compact(n.floor, 4) + ", ceiling = " + text::compact(n.ceiling, 4));
    if (n.shared) tip.push_back("shared: one outcome per task instance");
  }
  if (f.hidden_children > 0)
    tip.push_back(std::to_string(f.hidden_children) + " prerequisites not drawn (focus depth limit)");
  if (f.birnbaum || f.improvement) {
    std::string s = "for the highlighted task:";
    if (f.birnbaum) s += " Birnbaum = " + text::compact(*f.birnbaum, 4);
    if (f.improvement) s += (f.birnbaum ? "," : "") + std::string(" improvement potential = ") + text::compact(*f.improvement, 4);
    tip.push_back(s);
  }
  if (f.on_critical_path) tip.push_back("on the critical path");
  if (!n.description.empty()) tip.push_back(n.description);
  look.tooltip = join(tip, "\n");

  if (f.hidden_children > 0) look.style += ",dashed";
  if (f.on_critical_path || f.overlay_task) {
    look.outline = critical_color;
    look.penwidth = 3;
    look.css_class += " critical";
  }
  if (f.overlay_task) look.css_class += " highlighted";
  return look;
}

EdgeLook MapStyle::edge(const EdgeFacts& f) const {
  EdgeLook look;
  look.color = f.busy ? busy_edge_color : edge_color;
  if (f.busy) look.penwidth = busy_edge_width;
  look.css_class = "use";
  const bool mean = f.task && f.task->gate == GateKind::mean;
  if (f.between_groups) {  // collapsed groups: several references in one edge
    look.label = std::to_string(f.merged) + (f.merged == 1 ? " reference" : " references");
    look.penwidth = std::min(5.0, 0.5 + 0.75 * std::log2(static_cast<double>(f.merged)));
    look.color = faded_edge_color;
    look.css_class += " merged";
  } else if (mean) {
    if (f.uses != 1) look.label = "w " + count_text(f.uses);
  } else if (f.uses != 1) {
    look.label = "\u00d7" + count_text(f.uses);
  }
  look.tooltip = f.tail_name + " -> " + f.head_name;
  if (!look.label.empty()) look.tooltip += " (" + look.label + ")";

  if (f.measure_max > 0) {  // an overlay is active
    if (!f.in_overlay) {
      look.color = faded_edge_color;
    } else {
      const double m = f.measure.value_or(0);
      look.penwidth = 1 + (max_edge_width - 1) * std::clamp(m / f.measure_max, 0.0, 1.0);
      look.tooltip += "\nmeasure of " + f.tail_name + " = " + text::compact(m, 4);
    }
  }
  if (f.on_critical_path) {
    look.color = critical_color;
    look.penwidth = std::max(look.penwidth, 3.0);
    look.style = "bold";
    look.css_class += " critical";
  }
  return look;
}

}  // namespace capgraph::render
