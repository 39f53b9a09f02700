// The face-expression network's own inference: @vladmandic/face-api's FaceExpressionNet on TensorFlow.js's
// pure-JavaScript CPU backend, for checking the TorchScript conversion (scripts/convert-face-expression).
//
//   node face-expression-tfjs.js NODE_MODULES FACES.raw N OUT.raw
//
// FACES.raw: N faces of 112 x 112 x 3 float32 RGB values in [0, 255] (already 112 x 112, so the package
// neither pads nor resizes them). OUT.raw: N x 7 float32 probabilities, in the package's class order.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, facesPath, countText, outPath] = process.argv.slice(2);
  const n = Number(countText);
  const faceapi = require(path.join(modules, '@vladmandic/face-api/dist/face-api.node-wasm.js'));
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
  await faceapi.nets.faceExpressionNet.loadFromDisk(path.join(modules, '@vladmandic/face-api/model'));
  const bytes = fs.readFileSync(facesPath);
  const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const side = 112 * 112 * 3;
  if (pixels.length !== n * side) throw new Error(`${facesPath}: ${pixels.length} values, expected ${n * side}`);
  const out = new Float32Array(n * 7);
  for (let i = 0; i < n; ++i) {
    const face = faceapi.tf.tensor3d(pixels.slice(i * side, (i + 1) * side), [112, 112, 3], 'float32');
    const probabilities = await faceapi.nets.faceExpressionNet.forward(face);
    out.set(await probabilities.data(), i * 7);
    faceapi.tf.dispose([face, probabilities]);
  }
  fs.writeFileSync(outPath, Buffer.from(out.buffer));
  console.log(`backend ${faceapi.tf.getBackend()}, ${n} faces`);
}

main().catch((e) => { console.error(`face-expression-tfjs: ${e.message}`); process.exit(1); });
