// glassbox: what a LibTorch classifier is thinking, asked through gradients. One include for the
// library's whole surface; each area also has its own headers (models/, data/, explain/, train/,
// callbacks/, distributed/, tensorboard/, render/).
//
//   #include <glassbox/glassbox.h>
//   auto model = glassbox::models::load_model("resnet.pt");   // resnet.json beside it: inputs and classes
//   at::Tensor x = model.prepare_files({"cat.jpg"});
//   at::Tensor cam = glassbox::explain::grad_cam(model.network(), x, model.top_class(x));
#pragma once

// A model and its inputs.
#include "glassbox/models/architectures.h"
#include "glassbox/models/checkpoint.h"
#include "glassbox/models/classifier.h"
#include "glassbox/models/input-spec.h"
#include "glassbox/models/model-json.h"
#include "glassbox/models/model.h"
#include "glassbox/models/torchscript.h"

// Data.
#include "glassbox/data/class-names.h"
#include "glassbox/data/dataset.h"
#include "glassbox/data/image-decode.h"
#include "glassbox/data/load.h"

// Explanations and the pictures drawn from them.
#include "glassbox/explain/attribution-display.h"
#include "glassbox/explain/attribution.h"
#include "glassbox/explain/cam.h"
#include "glassbox/explain/confusion-report.h"
#include "glassbox/explain/confusion.h"
#include "glassbox/explain/explanation.h"
#include "glassbox/explain/figures.h"
#include "glassbox/explain/layer-attribution.h"
#include "glassbox/explain/layer-listing.h"
#include "glassbox/explain/layer-map.h"
#include "glassbox/explain/methods.h"
// Whether an explanation can be trusted: faithfulness metrics and sanity checks.
#include "glassbox/evaluate/evaluation.h"
#include "glassbox/evaluate/faithfulness.h"
#include "glassbox/evaluate/metrics.h"
#include "glassbox/explain/morph.h"
#include "glassbox/render/png.h"

// Serving explanations over HTTP, and the page.
#include "glassbox/serve/server.h"

// Training, its loggers and the callbacks that explain while it runs.
#include "glassbox/callbacks/confused-logit.h"
#include "glassbox/callbacks/probe-callbacks.h"
#include "glassbox/callbacks/faithfulness-callback.h"
#include "glassbox/train/console-logger.h"
#include "glassbox/train/csv-logger.h"
#include "glassbox/train/image-file-logger.h"
#include "glassbox/train/tensorboard-logger.h"
#include "glassbox/train/trainer.h"
#include "glassbox/train/training-run.h"

// Many processes.
#include "glassbox/distributed/communicator.h"
#include "glassbox/distributed/launch.h"
#include "glassbox/distributed/process-group.h"
#include "glassbox/distributed/world.h"

// TensorBoard files, read back.
#include "glassbox/tensorboard/event-reader.h"
#include "glassbox/tensorboard/log-directory.h"
#include "glassbox/tensorboard/log-listing.h"

// Devices and errors.
#include "glassbox/util/device.h"
#include "glassbox/util/error.h"
