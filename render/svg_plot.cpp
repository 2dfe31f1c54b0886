// capgraph/render/svg_plot.cpp — see svg_plot.hpp.
#include "render/svg_plot.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "render/escape.hpp"
#include "text/number_format.hpp"

namespace capgraph::render {

namespace {

// Layout, in px.
constexpr double kMargin = 14;
constexpr double kTitleH = 30;
constexpr double kPanelTitleH = 22;
constexpr double kLeft = 62;        // y tick labels + rotated y label
constexpr double kRight = 12;
constexpr double kGap = 26;         // between panels
constexpr double kTickRow = 18;
constexpr double kSecondRow = 16;
constexpr double kXLabelRow = 22;
constexpr double kLegendLine = 14;
constexpr double kFont = 11;        // tick labels
constexpr double kSmall = 10;       // legend details
constexpr const char* kInk = "#222222";
constexpr const char* kGrid = "#e6e6e6";

std::string num(double v, int digits = 2) {
  if (v == 0 || std::abs(v) < 0.5 * std::pow(10.0, -digits)) v = 0;  // no "-0.00"
  return text::fixed(v, digits);
}

// Decimals needed to print multiples of `step` exactly (0.25 -> 2).
int decimals_for(double step) {
  for (int d = 0; d <= 8; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 8;
}

std::string text_el(double x, double y, const std::string& markup, const std::string& extra = {},
                    double size = kFont, const char* fill = kInk) {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size, 1) + "\" fill=\"" + fill + "\"" +
         (extra.empty() ? "" : " " + extra) + ">" + markup + "</text>\n";
}

// Escapes `text` and turns each "{x:<value>}" into scientific markup; text
// after a superscript is shifted back to the baseline.
std::string rich(const std::string& text) {
  std::string out;
  bool shifted = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{x:", i);
    const std::size_t end = open == std::string::npos ? std::string::npos : text.find('}', open);
    const std::size_t stop = (open == std::string::npos || end == std::string::npos) ? text.size() : open;
    if (stop > i) {
      const std::string seg = xml_escape(text.substr(i, stop - i));
      if (shifted) {
        out += "<tspan dy=\"0.3375em\">" + seg + "</tspan>";  // undo the superscript's -0.45em at 75%
        shifted = false;
      } else {
        out += seg;
      }
    }
    if (stop == text.size()) break;
    double v = 0;
    const std::string body = text.substr(open + 3, end - open - 3);
    std::from_chars(body.data(), body.data() + body.size(), v);
    std::string m = sci_markup(v);
    if (shifted) {  // superscript right after superscript: restore first
      out += "<tspan dy=\"0.3375em\">\u2009</tspan>";
    }
    out += m;
    shifted = m.find("<tspan") != std::string::npos;
    i = end + 1;
  }
  return out;
}

// Rough text width for layout (Helvetica average advance ~0.56 em).
double text_width(const std::string& s, double size) {
  std::size_t chars = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++chars;
  return 0.56 * size * static_cast<double>(chars);
}

std::string truncate_to(const std::string& s, double width, double size) {
  if (text_width(s, size) <= width) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) n = 4; else if (c >= 0xE0) n = 3; else if (c >= 0xC0) n = 2;
    if (text_width(out + s.substr(i, n) + "\u2026", size) > width) break;
    out += s.substr(i, n);
    i += n;
  }
  return out + "\u2026";
}

std::string marker(std::size_t kind, double x, double y, const std::string& color, bool hollow) {
  const std::string paint = std::string(" fill=\"") + (hollow ? "white" : color) + "\" stroke=\"" +
                            (hollow ? color : "white") + "\" stroke-width=\"1.5\"";
  const double r = 3.6;
  switch (kind % 6) {
    case 0: return "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\"" + paint + "/>";
    case 1:
      return "<rect x=\"" + num(x - r) + "\" y=\"" + num(y - r) + "\" width=\"" + num(2 * r) + "\" height=\"" +
             num(2 * r) + "\"" + paint + "/>";
    case 2:
      return "<path d=\"M" + num(x) + "," + num(y - 1.2 * r) + " L" + num(x + 1.1 * r) + "," + num(y + 0.8 * r) + " L" +
             num(x - 1.1 * r) + "," + num(y + 0.8 * r) + " Z\"" + paint + "/>";
    case 3:
      return "<path d=\"M" + num(x) + "," + num(y - 1.3 * r) + " L" + num(x + 1.1 * r) + "," + num(y) + " L" + num(x) +
             "," + num(y + 1.3 * r) + " L" + num(x - 1.1 * r) + "," + num(y) + " Z\"" + paint + "/>";
    case 4:
      return "<path d=\"M" + num(x - r) + "," + num(y + 1.1 * r) + " L" + num(x) + "," + num(y - 1.2 * r) + " L" +
             num(x + r) + "," + num(y + 1.1 * r) + "\"" + paint + " fill-opacity=\"0\"/>";
    default:
      return "<path d=\"M" + num(x - r) + "," + num(y) + " H" + num(x + r) + " M" + num(x) + "," + num(y - r) + " V" +
             num(y + r) + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\"/>";
  }
}

struct YRange {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

YRange y_range(const PlotPanel& p) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  auto take = [&](const std::vector<double>& ys) {
    for (double y : ys)
      if (std::isfinite(y)) {
        lo = std::min(lo, y);
        hi = std::max(hi, y);
      }
  };
  for (const PlotLine& l : p.lines) take(l.y);
  for (const PlotPoints& pt : p.points) take(pt.y), take(pt.lo), take(pt.hi);
  for (const PlotHLine& h : p.hlines) take({h.y});
  if (p.y_min) lo = std::min(*p.y_min, std::isfinite(lo) ? lo : *p.y_min);
  if (p.y_max) hi = std::max(*p.y_max, std::isfinite(hi) ? hi : *p.y_max);
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) lo -= 0.5, hi += 0.5;
  YRange r;
  r.ticks = linear_ticks(lo, hi);
  r.lo = std::min(lo, r.ticks.front());
  r.hi = std::max(hi, r.ticks.back());
  if (p.y_min && *p.y_min <= lo) r.lo = *p.y_min;
  if (p.y_max && *p.y_max >= hi) r.hi = *p.y_max;
  return r;
}

}  // namespace

const std::vector<std::string>& plot_palette() {
  static const std::vector<std::string> p = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                             "#e69f00", "#56b4e9", "#000000", "#f0e442"};
  return p;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  if (!(lo > 0) || !(hi > lo)) return t;
  const double l0 = std::log10(lo), l1 = std::log10(hi);
  const double eps = 1e-9;
  if (l1 - l0 >= 1.5) {
    const int a = static_cast<int>(std::ceil(l0 - eps)), b = static_cast<int>(std::floor(l1 + eps));
    const int count = b - a + 1;
    const int step = count > 8 ? (count + 6) / 7 : 1;
    for (int k = a; k <= b; ++k)
      if ((k - a) % step == 0) t.push_back(std::pow(10.0, k));
    return t;
  }
  for (const std::vector<double>& mant : {std::vector<double>{1, 2, 5}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    t.clear();
    for (int k = static_cast<int>(std::floor(l0)) - 1; k <= static_cast<int>(std::ceil(l1)); ++k)
      for (double m : mant) {
        const double v = m * std::pow(10.0, k);
        if (v >= lo * (1 - eps) && v <= hi * (1 + eps)) t.push_back(v);
      }
    if (t.size() >= 3) break;
  }
  return t;
}

std::vector<double> linear_ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (raw <= step * 1.0000001) break;
  }
  std::vector<double> t;
  const double start = std::floor(lo / step + 1e-9) * step;
  for (double v = start; v <= hi + step * 0.999; v += step) {
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    if (t.size() > 20) break;
  }
  return t;
}

std::string sci_markup(double v, int digits) {
  if (!std::isfinite(v)) return v > 0 ? "\u221e" : (v < 0 ? "\u2212\u221e" : "n/a");
  if (v == 0) return "0";
  const double a = std::abs(v);
  const std::string sign = v < 0 ? "\u2212" : "";
  if (a >= 0.01 && a < 1e4) {
    return sign + text::significant(a, digits + 1);
  }
  int e = static_cast<int>(std::floor(std::log10(a)));
  double m = a / std::pow(10.0, e);
  // Round the mantissa to `digits` significant digits; 9.99 -> 10 bumps e.
  const double scale = std::pow(10.0, digits - 1);
  m = std::round(m * scale) / scale;
  if (m >= 10) {
    m /= 10;
    ++e;
  }
  std::string out = sign;
  if (std::abs(m - 1) > 1e-12) {
    out += text::significant(m, digits) + "\u00d7";
  }
  const std::string exp = (e < 0 ? "\u2212" : "") + std::to_string(std::abs(e));
  out += "10<tspan dy=\"-0.45em\" font-size=\"75%\">" + exp + "</tspan>";
  return out;
}

namespace {

// Where things go on the page, shared by the panels.
struct PlotFrame {
  double W = 0, H = 0, block_w = 0, axis_h = 0;
  double top = 0, plot_top = 0, legend_top = 0, width = 0, height = 0;
  double lx0 = 0, lx1 = 1;
  std::vector<double> xt;
  double left(std::size_t panel) const { return kMargin + static_cast<double>(panel) * (block_w + kGap) + kLeft; }
  double xpos(double left_edge, double x) const { return left_edge + W * (std::log10(x) - lx0) / (lx1 - lx0); }
};

PlotFrame plot_frame(const PlotFigure& fig) {
  PlotFrame f;
  f.W = fig.panel_width;
  f.H = fig.panel_height;
  const std::size_t n = std::max<std::size_t>(1, fig.panels.size());
  f.block_w = kLeft + f.W + kRight;
  f.axis_h = kTickRow + (fig.secondary ? kSecondRow : 0) + kXLabelRow;
  // Legend height: the tallest panel legend.
  double legend_h = 0;
  for (const PlotPanel& p : fig.panels) {
    double h = 0;
    for (const PlotLine& l : p.lines) h += l.detail.empty() ? kLegendLine + 2 : 2 * kLegendLine + 4;
    h += static_cast<double>(p.points.size()) * (kLegendLine + 2);
    legend_h = std::max(legend_h, h);
  }
  f.top = kMargin + (fig.title.empty() ? 0 : kTitleH);
  f.plot_top = f.top + kPanelTitleH;
  f.legend_top = f.plot_top + f.H + f.axis_h + 6;
  f.width = 2 * kMargin + static_cast<double>(n) * f.block_w + static_cast<double>(n - 1) * kGap;
  f.height = f.legend_top + legend_h + kMargin;
  f.lx0 = std::log10(fig.x_min);
  f.lx1 = std::log10(fig.x_max);
  f.xt = log_ticks(fig.x_min, fig.x_max);
  return f;
}

// A panel's grid, ticks, tick labels, axis labels and threshold lines.
std::string panel_axes(const PlotFigure& fig, const PlotFrame& fr, const PlotPanel& p, double left, const YRange& yr) {
  const double W = fr.W, H = fr.H, plot_top = fr.plot_top;
  auto ypos = [&](double y) { return plot_top + H * (1 - (y - yr.lo) / (yr.hi - yr.lo)); };
  auto xpos = [&](double x) { return fr.xpos(left, x); };
  std::string s;
  s += "<g class=\"grid\" stroke=\"" + std::string(kGrid) + "\" stroke-width=\"1\">";
  for (double t : fr.xt) s += "<line x1=\"" + num(xpos(t)) + "\" y1=\"" + num(plot_top) + "\" x2=\"" + num(xpos(t)) + "\" y2=\"" + num(plot_top + H) + "\"/>";
  for (double t : yr.ticks) s += "<line x1=\"" + num(left) + "\" y1=\"" + num(ypos(t)) + "\" x2=\"" + num(left + W) + "\" y2=\"" + num(ypos(t)) + "\"/>";
  s += "</g>\n";
  s += "<g class=\"ticks\" stroke=\"" + std::string(kInk) + "\" stroke-width=\"1\">";
  for (double t : fr.xt) s += "<line x1=\"" + num(xpos(t)) + "\" y1=\"" + num(plot_top + H) + "\" x2=\"" + num(xpos(t)) + "\" y2=\"" + num(plot_top + H + 5) + "\"/>";
  if (fr.lx1 - fr.lx0 >= 1.5 && fr.lx1 - fr.lx0 <= 9) {  // minor ticks 2..9 x 10^k
    for (int k = static_cast<int>(std::floor(fr.lx0)); k <= static_cast<int>(std::ceil(fr.lx1)); ++k)
      for (int m = 2; m <= 9; ++m) {
        const double v = m * std::pow(10.0, k);
        if (v < fig.x_min || v > fig.x_max) continue;
        s += "<line x1=\"" + num(xpos(v)) + "\" y1=\"" + num(plot_top + H) + "\" x2=\"" + num(xpos(v)) + "\" y2=\"" + num(plot_top + H + 3) + "\"/>";
      }
  }
  for (double t : yr.ticks) s += "<line x1=\"" + num(left - 5) + "\" y1=\"" + num(ypos(t)) + "\" x2=\"" + num(left) + "\" y2=\"" + num(ypos(t)) + "\"/>";
  s += "</g>\n";
  for (double t : fr.xt)
    s += text_el(xpos(t), plot_top + H + 16, sci_markup(t, 2), "text-anchor=\"middle\" class=\"x-tick\"");
  if (fig.secondary) {
    for (double t : fr.xt)
      s += text_el(xpos(t), plot_top + H + kTickRow + 13, sci_markup(fig.secondary(t), 2),
                   "text-anchor=\"middle\" class=\"x-tick-secondary\"", kSmall, "#555555");
    s += text_el(left - kLeft + 4, plot_top + H + kTickRow + 13, xml_escape(fig.secondary_label),
                 "text-anchor=\"start\" font-style=\"italic\" class=\"x-secondary-label\"", kSmall, "#555555");
  }
  s += text_el(left + W / 2, plot_top + H + fr.axis_h - 5, xml_escape(fig.x_label),
               "text-anchor=\"middle\" class=\"x-label\"");
  const int yd = yr.ticks.size() > 1 ? decimals_for(yr.ticks[1] - yr.ticks[0]) : 1;
  for (double t : yr.ticks) {
    std::string label = num(t, yd);
    if (label[0] == '-') label = "\u2212" + label.substr(1);
    s += text_el(left - 8, ypos(t) + 4, label, "text-anchor=\"end\" class=\"y-tick\"");
  }
  const double ylx = left - kLeft + 12, yly = plot_top + H / 2;
  s += text_el(ylx, yly, xml_escape(p.y_label),
               "text-anchor=\"middle\" transform=\"rotate(-90 " + num(ylx) + " " + num(yly) + ")\" class=\"y-label\"");
  for (const PlotHLine& h : p.hlines) {
    const double y = ypos(h.y);
    s += "<line class=\"threshold\" x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + W) +
         "\" y2=\"" + num(y) + "\" stroke=\"#555555\" stroke-width=\"1\" stroke-dasharray=\"5 4\"/>\n";
    s += text_el(left + 4, y - 4, xml_escape(h.label), "text-anchor=\"start\" class=\"threshold-label\"", 9.5,
                 "#555555");
  }
  return s;
}

// A panel's curves, observed points and threshold crossings, clipped to the plot area.
std::string panel_series(const PlotFrame& fr, const PlotPanel& p, std::size_t pi, double left, const YRange& yr) {
  const double H = fr.H, plot_top = fr.plot_top;
  auto ypos = [&](double y) { return plot_top + H * (1 - (y - yr.lo) / (yr.hi - yr.lo)); };
  std::string s = "<g clip-path=\"url(#plot-area-" + std::to_string(pi) + ")\">\n";
  for (const PlotLine& l : p.lines) {
    const std::string& color = plot_palette()[l.color % plot_palette().size()];
    std::string d;
    bool pen = false;
    for (std::size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!std::isfinite(l.y[i]) || !(l.x[i] > 0)) {
        pen = false;
        continue;
      }
      d += (pen ? " L" : (d.empty() ? "M" : " M")) + num(fr.xpos(left, l.x[i])) + "," + num(ypos(l.y[i]));
      pen = true;
    }
    const std::string dash = l.color >= plot_palette().size() ? " stroke-dasharray=\"7 3\"" : "";
    s += "<path class=\"series\" d=\"" + d + "\" fill=\"none\" stroke=\"" + color +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\"" + dash + "/>\n";
  }
  for (const PlotPoints& pt : p.points) {
    const std::string& color = plot_palette()[pt.color % plot_palette().size()];
    s += "<g class=\"observed\">";
    for (std::size_t i = 0; i < pt.x.size() && i < pt.lo.size() && i < pt.hi.size(); ++i)
      if (std::isfinite(pt.lo[i]) && std::isfinite(pt.hi[i]) && pt.x[i] > 0) {
        const double bx = fr.xpos(left, pt.x[i]);
        s += "<line class=\"band\" x1=\"" + num(bx) + "\" y1=\"" + num(ypos(pt.lo[i])) + "\" x2=\"" + num(bx) +
             "\" y2=\"" + num(ypos(pt.hi[i])) + "\" stroke=\"" + color + "\" stroke-width=\"5\" stroke-opacity=\"0.3\"/>";
      }
    for (std::size_t i = 0; i < pt.x.size() && i < pt.y.size(); ++i)
      if (std::isfinite(pt.y[i]) && pt.x[i] > 0) s += marker(pt.marker, fr.xpos(left, pt.x[i]), ypos(pt.y[i]), color, true);
    s += "</g>\n";
  }
  for (const PlotLine& l : p.lines) {
    if (!l.crossing || !l.crossing_y) continue;
    const std::string& color = plot_palette()[l.color % plot_palette().size()];
    const double cx = fr.xpos(left, *l.crossing), cy = ypos(*l.crossing_y);
    s += "<line class=\"crossing-drop\" x1=\"" + num(cx) + "\" y1=\"" + num(cy) + "\" x2=\"" + num(cx) + "\" y2=\"" +
         num(plot_top + H) + "\" stroke=\"" + color + "\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/>";
    s += "<g class=\"crossing\">" + marker(0, cx, cy, color, false) + "</g>\n";
  }
  return s + "</g>\n";
}

// A panel's legend, below its axes.
std::string panel_legend(const PlotFrame& fr, const PlotPanel& p, double left) {
  double ly = fr.legend_top;
  const double text_w = fr.block_w - 34;
  const double lx = left - kLeft + 10;
  std::string s = "<g class=\"legend\">\n";
  for (const PlotLine& l : p.lines) {
    const std::string& color = plot_palette()[l.color % plot_palette().size()];
    const std::string dash = l.color >= plot_palette().size() ? " stroke-dasharray=\"7 3\"" : "";
    s += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly + 6) + "\" x2=\"" + num(lx + 20) + "\" y2=\"" + num(ly + 6) +
         "\" stroke=\"" + color + "\" stroke-width=\"2.5\"" + dash + "/>";
    s += text_el(lx + 26, ly + 10, xml_escape(truncate_to(l.label, text_w, kFont)), "class=\"legend-label\"");
    ly += kLegendLine;
    if (!l.detail.empty()) {
      s += text_el(lx + 26, ly + 10, rich(l.detail), "class=\"legend-detail\"", kSmall, "#444444");
      ly += kLegendLine + 4;
    } else {
      ly += 2;
    }
  }
  for (const PlotPoints& pt : p.points) {
    const std::string& color = plot_palette()[pt.color % plot_palette().size()];
    s += marker(pt.marker, lx + 10, ly + 6, color, true);
    s += text_el(lx + 26, ly + 10, xml_escape(truncate_to(pt.label, text_w, kFont)), "class=\"legend-label\"");
    ly += kLegendLine + 2;
  }
  return s + "</g>\n";
}

}  // namespace

std::string write_svg_plot(const PlotFigure& fig) {
  const PlotFrame fr = plot_frame(fig);
  const std::string width = num(fr.width, 0), height = num(std::ceil(fr.height), 0);
  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + width + "\" height=\"" + height +
       "\" viewBox=\"0 0 " + width + " " + height + "\" font-family=\"Helvetica, Arial, sans-serif\">\n";
  s += "<title>" + xml_escape(fig.title.empty() ? "capgraph curves" : fig.title) + "</title>\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + width + "\" height=\"" + height + "\" fill=\"white\"/>\n";
  if (!fig.title.empty())
    s += text_el(fr.width / 2, kMargin + 17, xml_escape(fig.title), "text-anchor=\"middle\" font-weight=\"bold\"", 15);

  s += "<defs>\n";
  for (std::size_t pi = 0; pi < fig.panels.size(); ++pi)
    s += "<clipPath id=\"plot-area-" + std::to_string(pi) + "\"><rect x=\"" + num(fr.left(pi) - 1) + "\" y=\"" +
         num(fr.plot_top - 6) + "\" width=\"" + num(fr.W + 2) + "\" height=\"" + num(fr.H + 12) + "\"/></clipPath>\n";
  s += "</defs>\n";

  for (std::size_t pi = 0; pi < fig.panels.size(); ++pi) {
    const PlotPanel& p = fig.panels[pi];
    const double left = fr.left(pi);
    const YRange yr = y_range(p);
    s += "<g class=\"panel\" id=\"panel-" + std::to_string(pi) + "\">\n";
    s += text_el(left + fr.W / 2, fr.top + 14, xml_escape(p.title), "text-anchor=\"middle\" class=\"panel-title\"", 12.5);
    s += panel_axes(fig, fr, p, left, yr);
    s += panel_series(fr, p, pi, left, yr);
    // Axes box on top.
    s += "<rect x=\"" + num(left) + "\" y=\"" + num(fr.plot_top) + "\" width=\"" + num(fr.W) + "\" height=\"" +
         num(fr.H) + "\" fill=\"none\" stroke=\"" + kInk + "\" stroke-width=\"1\"/>\n";
    s += panel_legend(fr, p, left);
    s += "</g>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace capgraph::render
