// capgraph/render/svg_convert.cpp — see svg_convert.hpp.
#include "render/svg_convert.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <librsvg/rsvg.h>

#include <cmath>
#include <memory>
#include <stdexcept>

namespace capgraph::render {

namespace {

struct HandleDeleter {
  void operator()(RsvgHandle* h) const { g_object_unref(h); }
};
struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Handle = std::unique_ptr<RsvgHandle, HandleDeleter>;
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

// The parsed document and its size in px (its width and height attributes).
Handle parse(const std::string& svg, double& width, double& height) {
  GError* error = nullptr;
  RsvgHandle* h = rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (!h) {
    const std::string what = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("librsvg cannot read the figure: " + what);
  }
  Handle handle(h);
  rsvg_handle_set_dpi(h, 96);
  if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &width, &height) || !(width > 0) || !(height > 0))
    throw std::runtime_error("librsvg: the figure has no size (width and height attributes)");
  return handle;
}

void draw(RsvgHandle* h, cairo_t* cr, double width, double height) {
  GError* error = nullptr;
  const RsvgRectangle viewport{0, 0, width, height};
  if (!rsvg_handle_render_document(h, cr, &viewport, &error)) {
    const std::string what = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("librsvg cannot draw the figure: " + what);
  }
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo: ") + cairo_status_to_string(cairo_status(cr)));
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string svg_to_png(const std::string& svg, double dpi) {
  if (!(dpi > 0) || !std::isfinite(dpi)) throw std::invalid_argument("svg_to_png: dpi must be positive");
  double w = 0, h = 0;
  const Handle handle = parse(svg, w, h);
  const double k = dpi / 96;
  const double pw = std::round(w * k), ph = std::round(h * k);
  if (pw > 32767 || ph > 32767) throw std::runtime_error("the PNG would be larger than 32767 pixels; lower --dpi");
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(pw), static_cast<int>(ph)));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
  {
    Context cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    cairo_scale(cr.get(), pw / w, ph / h);
    draw(handle.get(), cr.get(), w, h);
  }
  std::string out;
  if (cairo_surface_write_to_png_stream(surface.get(), append, &out) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cairo could not write the PNG");
  return out;
}

std::string svg_to_pdf(const std::string& svg) {
  double w = 0, h = 0;
  const Handle handle = parse(svg, w, h);
  std::string out;
  {
    Surface surface(cairo_pdf_surface_create_for_stream(append, &out, w * 0.75, h * 0.75));
    // A fixed date: the same figure gives the same bytes.
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z");
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "capgraph");
    Context cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), 0.75, 0.75);
    draw(handle.get(), cr.get(), w, h);
    cairo_show_page(cr.get());
    cr.reset();
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error(std::string("cairo: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return out;
}

}  // namespace capgraph::render
