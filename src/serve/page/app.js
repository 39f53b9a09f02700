// glassbox's page: plain JavaScript against the server's own routes, nothing fetched from elsewhere.
'use strict';

const state = { models: [], methods: [], model: null, image: null, target: 'top', token: sessionStorage.getItem('glassbox-token') || '' };
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, children = []) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else if (k === 'style') e.style.cssText = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(c);
  return e;
};

function status(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    $('token-box').hidden = false;
    throw new Error('this server needs its token');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
  return body;
}

const post = (path, body) => api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const png = (b64) => 'data:image/png;base64,' + b64;
const model = () => state.models.find((m) => m.name === $('model').value);

function fillClasses(select, classes, extra = []) {
  select.replaceChildren(...extra.map(([v, t]) => el('option', { value: v, text: t })),
    ...classes.map((c, i) => el('option', { value: String(i), text: i + ': ' + c })));
}

function chooseModel() {
  const m = model();
  if (!m) return;
  fillClasses($('target'), m.classes, [['top', 'its top class'], ['top2', 'its two top classes']]);
  fillClasses($('compare-a'), m.classes);
  fillClasses($('compare-b'), m.classes);
  fillClasses($('morph-target'), m.classes);
  if (m.classes.length > 1) $('compare-b').value = '1';
  state.target = 'top';
  if (state.image) explainAll();
}

async function loadModels() {
  const info = await api('/api/models');
  state.models = info.models;
  state.methods = info.methods;
  $('model').replaceChildren(...info.models.map((m) => el('option', { value: m.name, text: m.name + ' (' + m.input_shape.join('x') + ', ' + m.classes.length + ' classes)' })));
  const preferred = ['saliency', 'ig', 'smoothgrad', 'gradcam'];
  $('methods').replaceChildren(...info.methods.map((m) => el('label', { title: m.help }, [
    el('input', Object.assign({ type: 'checkbox', value: m.name, onchange: explainAll }, preferred.includes(m.name) ? { checked: '' } : {})),
    document.createTextNode(m.name)])));
  $('compare-method').replaceChildren(...info.methods.map((m) => el('option', { value: m.name, text: m.name })));
  $('compare-method').value = 'gradcam';
  $('tab-runs').hidden = !info.runs;
  if (info.samples) loadSamples().catch((e) => status(e.message, true));
  chooseModel();
  status(info.models.length + ' model(s) served');
}

async function authorisedBlob(url) {
  const response = await fetch(url, { headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} });
  if (!response.ok) throw new Error('HTTP ' + response.status + ' for ' + url);
  return response.blob();
}

// The server's sample photographs, as thumbnails: a click explains one.
async function loadSamples() {
  const { samples } = await api('/api/samples');
  const box = $('samples');
  box.replaceChildren(el('span', { class: 'muted', text: 'or a sample:' }));
  box.hidden = samples.length === 0;
  for (const name of samples.slice(0, 48)) {
    const blob = await authorisedBlob('/api/sample?name=' + encodeURIComponent(name));
    box.appendChild(el('img', { src: URL.createObjectURL(blob), alt: name, title: name, class: 'sample', onclick: () => readImage(blob) }));
  }
}

function readImage(file) {
  if (!file || !/^image\/(png|jpeg)$/.test(file.type)) return status('a PNG or JPEG photograph, please', true);
  const reader = new FileReader();
  reader.onload = () => {
    state.image = reader.result;
    $('input-image').src = state.image;
    $('input-figure').hidden = false;
    state.target = 'top';
    $('target').value = 'top';
    predict().then(explainAll);
  };
  reader.readAsDataURL(file);
}

async function predict() {
  const m = model();
  const body = await post('/v1/models/' + m.name + ':predict', { instances: [{ b64: state.image.split(',')[1] }], parameters: { top_k: Math.min(5, m.classes.length) } });
  const p = body.predictions[0];
  const rows = p.top.map((t) => el('tr', { 'data-class': String(t.class), onclick: () => { $('target').value = String(t.class); state.target = String(t.class); explainAll(); } }, [
    el('td', { text: t.label }), el('td', { text: t.probability.toFixed(3) }),
    el('td', {}, [el('div', { class: 'bar', style: 'width:' + Math.round(120 * t.probability) + 'px' })])]));
  $('prediction').replaceChildren(el('p', { text: 'The model sees ' + p.label + ' (' + p.probability.toFixed(3) + '). Click a class to explain it.' }), el('table', {}, rows));
}

function targetParameter() {
  const t = $('target').value;
  return t === 'top' || t === 'top2' ? t : Number(t);
}

async function explainAll() {
  if (!state.image) return;
  const m = model();
  const methods = [...document.querySelectorAll('#methods input:checked')].map((i) => i.value);
  const target = targetParameter();
  for (const tr of document.querySelectorAll('#prediction tr')) tr.classList.toggle('chosen', tr.dataset.class === String(target));
  $('target-caption').textContent = typeof target === 'number' ? 'for ' + m.classes[target] : (target === 'top' ? 'for its top class' : 'for its two top classes');
  $('overlays').replaceChildren(...methods.map((name) => el('figure', { id: 'overlay-' + name }, [el('figcaption', { text: name + ': working…' })])));
  status('explaining with ' + methods.join(', ') + '…');
  const started = performance.now();
  await Promise.all(methods.map(async (name) => {
    const slot = $('overlay-' + name);
    try {
      const body = await post('/v1/models/' + m.name + ':explain', { instances: [{ b64: state.image.split(',')[1] }], parameters: { method: name, target, return: ['overlay'] } });
      const e = body.explanations[0];
      slot.replaceChildren(...e.targets.map((t) => el('div', {}, [
        el('img', { src: png(t.overlay_png), alt: name + ' for ' + t.label, class: 'overlay', 'data-method': name, 'data-class': String(t.class) }),
        el('figcaption', { text: name + ' for ' + t.label + ' (p ' + t.probability.toFixed(3) + ')' + (e.layer ? ' at ' + e.layer : '') })])));
    } catch (err) {
      slot.replaceChildren(el('figcaption', { text: name + ': ' + err.message }));
    }
  }));
  status('explained in ' + Math.round(performance.now() - started) + ' ms');
}

async function compare() {
  if (!state.image) return status('drop a photograph first', true);
  const m = model();
  const a = Number($('compare-a').value), b = Number($('compare-b').value), method = $('compare-method').value;
  status('comparing ' + m.classes[a] + ' with ' + m.classes[b] + '…');
  try {
    const body = await post('/v1/models/' + m.name + ':explain', { instances: [{ b64: state.image.split(',')[1] }], parameters: { method, target: [a, b], sign: 'all', return: ['overlay'] } });
    $('comparison').replaceChildren(...body.explanations[0].targets.map((t) => el('figure', {}, [
      el('img', { src: png(t.overlay_png), alt: 'what makes it more of ' + t.label }),
      el('figcaption', { text: 'more of ' + t.label + ' (p ' + t.probability.toFixed(3) + '): red raises it, blue lowers it' })])));
    status('compared');
  } catch (err) { status(err.message, true); }
}

async function morph() {
  if (!state.image) return status('drop a photograph first', true);
  const m = model();
  const target = Number($('morph-target').value);
  status('morphing toward ' + m.classes[target] + '…');
  try {
    const body = await post('/v1/models/' + m.name + ':morph', { instances: [{ b64: state.image.split(',')[1] }], parameters: { target } });
    const r = body.morphs[0];
    $('morph-result').replaceChildren(el('figure', {}, [el('img', { src: 'data:image/gif;base64,' + r.gif, alt: 'morph toward ' + r.label }),
      el('figcaption', { text: (r.reached ? 'reached ' : 'not reached: ') + r.label + ' p ' + r.probability[r.probability.length - 1].toFixed(3) + ' after ' + r.steps + ' steps' })]));
    status('morphed');
  } catch (err) { status(err.message, true); }
}

// ---- the run browser
function chart(title, series) {
  const W = 420, H = 180, P = 34;
  const xs = series.step, ys = series.value.map(Number);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => P + (W - 2 * P) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5);
  const sy = (y) => H - P + (2 * P - H) * (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'chart'); svg.setAttribute('width', W); svg.setAttribute('height', H);
  const text = (x, y, t, anchor = 'start') => { const e = document.createElementNS(ns, 'text'); e.setAttribute('x', x); e.setAttribute('y', y); e.setAttribute('font-size', '11'); e.setAttribute('text-anchor', anchor); e.textContent = t; svg.appendChild(e); };
  const path = document.createElementNS(ns, 'polyline');
  path.setAttribute('points', xs.map((x, i) => sx(x) + ',' + sy(ys[i])).join(' '));
  path.setAttribute('fill', 'none'); path.setAttribute('stroke', '#2a6fb0'); path.setAttribute('stroke-width', '1.5');
  svg.appendChild(path);
  text(P, 14, title);
  text(P - 4, sy(y1) + 4, y1.toPrecision(3), 'end'); text(P - 4, sy(y0) + 4, y0.toPrecision(3), 'end');
  text(sx(x0), H - 8, String(x0)); text(sx(x1), H - 8, String(x1), 'end');
  return svg;
}

function fileUrl(run, name) {
  return '/api/run-file?id=' + encodeURIComponent(run) + '&name=' + encodeURIComponent(name);
}

async function picture(run, name) {
  // Through fetch, so that the token travels with it; shown from a blob.
  const img = el('img', { class: 'run-picture', alt: name });
  img.src = URL.createObjectURL(await authorisedBlob(fileUrl(run, name)));
  return img;
}

async function showRun(id) {
  for (const li of document.querySelectorAll('#run-list li')) li.classList.toggle('chosen', li.dataset.id === id);
  const d = await api('/api/run?id=' + encodeURIComponent(id));
  const view = $('run-view');
  view.replaceChildren(el('h2', { text: 'run ' + id }));
  if (d.summary) view.appendChild(el('p', { class: 'muted', text: Object.entries(d.summary).filter(([, v]) => typeof v !== 'object').map(([k, v]) => k + ' ' + (typeof v === 'number' ? +v.toFixed(4) : v)).join(' · ') }));
  const curves = Object.entries(d.curves);
  if (curves.length) {
    view.appendChild(el('h2', { text: 'Training curves' }));
    view.appendChild(el('div', { class: 'gallery' }, curves.map(([name, s]) => chart(name, s))));
  }
  if (d.confused) {
    const c = d.confused;
    view.appendChild(el('h2', { text: 'Most confused samples (' + c.data + ' ' + c.split + ', accuracy ' + Number(c.accuracy).toFixed(4) + ')' }));
    const detail = el('div', { class: 'gallery', id: 'confused-detail' });
    const show = async (ranked) => detail.replaceChildren(...await Promise.all(ranked.map(async (r) => el('figure', {}, [await picture(id, 'confused/' + r.figure),
      el('figcaption', { text: 'sample ' + r.index + ' (label ' + r.label + '): ' + r.class_a + ' ' + Number(r.prob_a).toFixed(2) + ' vs ' + r.class_b + ' ' + Number(r.prob_b).toFixed(2) })]))));
    const K = c.pair_counts.length;
    const head = el('tr', {}, [el('th', { text: 'seen \\ runner-up' }), ...c.pair_counts.map((_, j) => el('th', { text: String(j) }))]);
    const rows = c.pair_counts.map((row, i) => el('tr', {}, [el('th', { text: String(i) }), ...row.map((n, j) => {
      const listed = c.ranked.filter((r) => r.class_a === i && r.class_b === j);
      const td = el('td', { text: String(n), class: listed.length ? 'clickable' : '', title: listed.length + ' mined sample(s)' });
      if (listed.length) td.addEventListener('click', () => show(listed));
      return td;
    })]));
    view.appendChild(el('p', { class: 'muted', text: 'Pairs (top class, runner-up) among the ' + c.samples + ' samples; click a cell with mined samples to see their figures. ' + K + ' classes.' }));
    view.appendChild(el('table', { class: 'grid', id: 'pair-matrix' }, [head, ...rows]));
    view.appendChild(detail);
    show(c.ranked.slice(0, 4));
  }
  for (const [name, table] of Object.entries(d.evaluations)) {
    view.appendChild(el('h2', { text: 'Evaluation: ' + name }));
    const metrics = [...new Set(table.flatMap((r) => Object.keys(r.metrics)))];
    const head = el('tr', {}, [el('th', { text: 'method' }), ...metrics.map((m) => el('th', { text: m + ' (' + (table[0].metrics[m] || {}).better + ' better)' }))]);
    const rows = table.map((r) => el('tr', {}, [el('th', { text: r.method }), ...metrics.map((m) => {
      const cell = r.metrics[m] || {};
      return el('td', { text: cell.mean === undefined ? '' : Number(cell.mean).toFixed(3) + (cell.ci95 ? ' ± ' + ((cell.ci95[1] - cell.ci95[0]) / 2).toFixed(3) : ''), title: cell.verdict || '' });
    })]));
    view.appendChild(el('table', { class: 'grid' }, [head, ...rows]));
  }
  const others = d.pictures.filter((p) => !p.startsWith('confused/rank'));
  if (others.length) {
    view.appendChild(el('h2', { text: 'Pictures' }));
    const list = el('ul');
    for (const p of others) list.appendChild(el('li', {}, [el('a', { href: '#', text: p, onclick: async (ev) => { ev.preventDefault(); ev.target.parentNode.appendChild(await picture(id, p)); } })]));
    view.appendChild(list);
  }
}

async function loadRuns() {
  const { runs } = await api('/api/runs');
  $('run-list').replaceChildren(...runs.map((r) => el('li', { 'data-id': r.id, text: r.id + (r.summary && r.summary.val_acc !== undefined ? ' (val_acc ' + Number(r.summary.val_acc).toFixed(3) + ')' : ''), onclick: () => showRun(r.id).catch((e) => status(e.message, true)) })));
  if (!runs.length) $('run-list').appendChild(el('li', { class: 'muted', text: 'no runs found' }));
}

function showPanel(name) {
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.dataset.panel === name);
  $('panel-explain').hidden = name !== 'explain';
  $('panel-runs').hidden = name !== 'runs';
  if (name === 'runs') loadRuns().catch((e) => status(e.message, true));
}

function start() {
  for (const t of document.querySelectorAll('.tab')) t.addEventListener('click', () => showPanel(t.dataset.panel));
  $('model').addEventListener('change', chooseModel);
  $('target').addEventListener('change', () => { state.target = $('target').value; explainAll(); });
  $('file').addEventListener('change', (e) => readImage(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); readImage(e.dataTransfer.files[0]); });
  document.addEventListener('paste', (e) => { const f = [...e.clipboardData.files][0]; if (f) readImage(f); });
  $('compare').addEventListener('click', compare);
  $('morph').addEventListener('click', morph);
  $('token-save').addEventListener('click', () => {
    state.token = $('token').value;
    sessionStorage.setItem('glassbox-token', state.token);
    $('token-box').hidden = true;
    loadModels().catch((e) => status(e.message, true));
  });
  loadModels().catch((e) => status(e.message, true));
}

start();
