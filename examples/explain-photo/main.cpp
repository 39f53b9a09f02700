// Explains a photograph through a TorchScript classifier exported with its model.json, using an
// installed glassbox: the model says how photographs become its inputs and what its classes are called.
//   explain-photo model.pt photo.jpg out.png
#include <glassbox/glassbox.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: explain-photo MODEL.pt PHOTO OUT.png\n"), 2;
  try {
    const glassbox::models::Model model = glassbox::models::load_model(argv[1]);  // MODEL.json beside it
    const at::Tensor x = model.prepare_files({argv[2]});
    const at::Tensor seen = model.top_class(x);
    const at::Tensor cam = glassbox::explain::grad_cam(model.network(), x, seen);
    const auto figure = glassbox::explain::attribution_figure_data(model, x, cam, seen, "gradcam").front();
    glassbox::render::write_png_file(argv[3], glassbox::explain::render_attribution_figure(
                                                  figure, glassbox::explain::AttributionFigureOptions().fade(false)));
    std::printf("%s: sees %s (p %.3f); Grad-CAM in %s\n", argv[2], model.class_name(figure.predicted).c_str(),
                figure.predicted_probability, argv[3]);
  } catch (const std::exception& e) {
    return std::fprintf(stderr, "explain-photo: %s\n", e.what()), 2;
  }
}
