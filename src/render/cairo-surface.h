// Cairo surfaces as owned objects, and their pixels as an RgbImage: what the figure and the chart share.
#pragma once

#include <cairo/cairo.h>

#include <memory>

#include "glassbox/render/image.h"

namespace glassbox::render {

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

// An opaque ARGB32 surface's pixels; throws glassbox::Error when `cr` recorded a Cairo error.
RgbImage surface_pixels(cairo_surface_t* surface, cairo_t* cr);

}  // namespace glassbox::render
