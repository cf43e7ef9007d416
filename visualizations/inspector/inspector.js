// @ts-check
/**
 * The ikekm inspector page (served by `ikekm inspect`, src/inspector/inspector-server.ts).
 *
 * It reads the steps of a record or of a live daemon from `/steps` (Server-Sent Events: one
 * `source`, then a `step` each, then perhaps `end`), and shows the world after step N:
 *
 * - every IKE SA and Child SA actor with its state value (those changed by step N marked);
 * - step N itself: its input, the datagrams it sent, the states it changed;
 * - for the selected SA, its exchanges as a sequence diagram up to step N (requests,
 *   responses, retransmissions dashed, timers and Child SA changes as notes, times from its first
 *   message), and its machine's state chart (visualizations/*.svg) with the states it is in lit.
 *
 * No framework and no build step: the page must work from the files as committed, offline.
 */

/**
 * @typedef {{ direction: 'in' | 'out', local: string, remote: string, exchange: string, response: boolean,
 *   initiator: boolean, messageId: number, spiI: string, spiR: string, payloads: string[], octets: number,
 *   repeat: boolean, undecodable?: string }} Message
 * @typedef {{ kind: string, text: string, owner?: string, message?: Message }} StepInput
 * @typedef {{ actor: string, value: unknown }} StateChange
 * @typedef {{ index: number, at: number, input: StepInput, outputs: Message[], states: StateChange[] }} Step
 * @typedef {{ kind: 'message', step: number, message: Message, procedure?: string }
 *   | { kind: 'note', step: number, text: string }} Row
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The machines' ids, as the charts' `data-state` attributes begin. */
const CHART_OF = { ike: { file: '/charts/ike-sa.svg', machine: 'ikeSa', title: 'IKE SA' }, child: { file: '/charts/child-sa.svg', machine: 'childSa', title: 'Child SA' } };

const model = {
  /** @type {Step[]} */
  steps: [],
  /** How many steps have happened: 0 is before the first, steps.length after the last. */
  position: 0,
  /** @type {string | undefined} the selected actor */
  selected: undefined,
  live: false,
  /** @type {string | undefined} */
  ended: undefined,
};

// ---- what the steps tell: actors, and which IKE SA each message belongs to ----

/** Every actor seen, in the order it first appeared. */
const actorsSeen = new Set();
/** SPI (hex) → IKE SA actor: learnt from messages whose other SPI is the actor's own. */
const spiOwner = new Map();

/** The IKE SA actor an actor belongs to (`ike-<SPI>/child-<SPI>` → `ike-<SPI>`). */
const ikeSaOf = (/** @type {string} */ actor) => actor.split('/')[0] ?? actor;

/** The IKE SA a message belongs to: the one whose local SPI it carries, or whose peer SPI it does. */
function ownerOf(/** @type {Message} */ m) {
  for (const spi of [m.spiI, m.spiR]) if (actorsSeen.has(`ike-${spi}`)) return `ike-${spi}`;
  return spiOwner.get(m.spiI);
}

function learn(/** @type {Step} */ step) {
  for (const s of step.states) actorsSeen.add(s.actor);
  const messages = [...(step.input.message ? [step.input.message] : []), ...step.outputs];
  for (const m of messages) {
    const owner = ownerOf(m);
    // The peer's SPI of an IKE SA we answered (RFC 7296 2.6): its first request carried only that.
    if (owner !== undefined && !/^0+$/.test(m.spiR)) {
      spiOwner.set(m.spiI, owner);
      spiOwner.set(m.spiR, owner);
    }
  }
}

/** States after `position` steps, computed forward from the last time (back: from the start). */
let stateCache = { position: 0, states: /** @type {Map<string, { value: unknown, step: number }>} */ (new Map()) };
function statesAt(/** @type {number} */ position) {
  if (position < stateCache.position) stateCache = { position: 0, states: new Map() };
  for (let i = stateCache.position; i < position; i++) {
    for (const s of model.steps[i]?.states ?? []) stateCache.states.set(s.actor, { value: s.value, step: i });
  }
  stateCache.position = position;
  return stateCache.states;
}

/** A state value as one line: `established.{window.idle, answering.idle, succession.current}`. */
function formatValue(/** @type {unknown} */ value) {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const parts = Object.entries(value).map(([k, v]) => (typeof v === 'string' ? `${k}.${v}` : `${k}.${formatValue(v)}`));
  return parts.length === 1 ? (parts[0] ?? '') : `{${parts.join(', ')}}`;
}

/** The top state of a value (`established`, `installed`). */
const topState = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : value && typeof value === 'object' ? (Object.keys(value)[0] ?? '') : '');

/** The procedure an IKE SA's request window is in, if any (`rekeyingChild`, `deletingIke`…). */
function procedureOf(/** @type {unknown} */ value) {
  const established = value && typeof value === 'object' ? /** @type {Record<string, unknown>} */ (value).established : undefined;
  const window = established && typeof established === 'object' ? /** @type {Record<string, unknown>} */ (established).window : undefined;
  const name = topState(window);
  return name === '' || name === 'idle' ? undefined : name;
}

/** The ids of the chart's states that `value` is in (`ikeSa`, `ikeSa.established`, …). */
function activeStateIds(/** @type {string} */ machine, /** @type {unknown} */ value) {
  const ids = [machine];
  const walk = (/** @type {unknown} */ v, /** @type {string} */ prefix) => {
    if (typeof v === 'string') ids.push(`${prefix}.${v}`);
    else if (v && typeof v === 'object') {
      for (const [k, sub] of Object.entries(v)) {
        ids.push(`${prefix}.${k}`);
        walk(sub, `${prefix}.${k}`);
      }
    }
  };
  walk(value, machine);
  return ids;
}

// ---- the page ----

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = (/** @type {string} */ tag, /** @type {Record<string, string>} */ attrs = {}, /** @type {(Node | string)[]} */ children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
};
const svg = (/** @type {string} */ tag, /** @type {Record<string, string | number>} */ attrs = {}, /** @type {(Node | string)[]} */ children = []) => {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
};

const title = (/** @type {Message} */ m) => `${m.exchange} ${m.response ? 'response' : 'request'} #${m.messageId}`;
const seconds = (/** @type {number} */ ms) => `${ms >= 0 ? '+' : ''}${(ms / 1000).toFixed(3)} s`;

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    const states = statesAt(model.position);
    renderStepper();
    renderActors(states);
    renderStep();
    renderSequence();
    void renderChart(states);
  });
}

function renderStepper() {
  const n = model.steps.length;
  $('position').textContent = `step ${model.position} of ${n}`;
  /** @type {HTMLButtonElement} */ ($('first')).disabled = model.position === 0;
  /** @type {HTMLButtonElement} */ ($('prev')).disabled = model.position === 0;
  /** @type {HTMLButtonElement} */ ($('next')).disabled = model.position >= n;
  /** @type {HTMLButtonElement} */ ($('last')).disabled = model.position >= n;
  $('ended').textContent = model.ended ?? '';
}

function renderActors(/** @type {Map<string, { value: unknown, step: number }>} */ states) {
  const body = /** @type {HTMLTableSectionElement} */ ($('actors').querySelector('tbody'));
  // IKE SAs in the order they appeared, each followed by its Child SAs.
  const ordered = [...states.keys()].filter((a) => !a.includes('/'));
  const rows = [];
  for (const ike of ordered) {
    rows.push(ike);
    for (const a of states.keys()) if (a.startsWith(`${ike}/`)) rows.push(a);
  }
  body.replaceChildren(
    ...rows.map((actor) => {
      const state = /** @type {{ value: unknown, step: number }} */ (states.get(actor));
      const top = topState(state.value);
      const classes = ['actor', actor.includes('/') ? 'child' : 'ike'];
      if (state.step === model.position - 1) classes.push('changed');
      if (actor === model.selected) classes.push('selected');
      if (top === 'closed' || top === 'deleted') classes.push('gone');
      const row = el('tr', { class: classes.join(' '), 'data-actor': actor }, [
        el('td', { class: 'name' }, [actor.includes('/') ? (actor.split('/')[1] ?? actor) : actor]),
        el('td', { class: 'state' }, [formatValue(state.value)]),
      ]);
      row.addEventListener('click', () => {
        model.selected = actor;
        render();
      });
      return row;
    }),
  );
}

function describeMessage(/** @type {Message} */ m) {
  const arrow = m.direction === 'out' ? '→' : '←';
  const payloads = m.undecodable ? `does not decode: ${m.undecodable}` : `payloads ${m.payloads.join(', ') || 'none'}`;
  return `${title(m)} ${m.direction}${m.repeat ? ' (again: same octets as before)' : ''} · ${m.local} ${arrow} ${m.remote} · SPIs ${m.spiI}/${m.spiR} · ${payloads} · ${m.octets} octets`;
}

function renderStep() {
  const box = $('step');
  const step = model.steps[model.position - 1];
  if (step === undefined) {
    box.replaceChildren(el('p', { class: 'hint' }, [model.steps.length === 0 ? 'No steps yet.' : 'Before the first step: step forward.']));
    return;
  }
  const first = model.steps[0]?.at ?? step.at;
  const items = [
    el('p', { class: 'when' }, [`step ${model.position} · ${new Date(step.at).toISOString()} · ${seconds(step.at - first)}`]),
    el('p', { class: 'input', id: 'step-input' }, [step.input.text]),
  ];
  if (step.input.message) items.push(el('p', { class: 'detail' }, [describeMessage(step.input.message)]));
  if (step.outputs.length > 0) items.push(el('p', {}, ['sent:']), el('ul', { id: 'step-outputs' }, step.outputs.map((m) => el('li', {}, [describeMessage(m)]))));
  if (step.states.length > 0) items.push(el('p', {}, ['states:']), el('ul', { id: 'step-states' }, step.states.map((s) => el('li', {}, [`${s.actor} → ${formatValue(s.value)}`]))));
  if (step.outputs.length === 0 && step.states.length === 0) items.push(el('p', { class: 'hint' }, ['Nothing sent, no state changed.']));
  box.replaceChildren(...items);
}

/** The selected IKE SA's rows up to the current position. */
function sequenceRows(/** @type {string} */ sa) {
  /** @type {Row[]} */
  const rows = [];
  /** @type {Map<string, unknown>} */
  const values = new Map();
  for (let i = 0; i < model.position; i++) {
    const step = /** @type {Step} */ (model.steps[i]);
    const before = new Map([...values].filter(([a]) => ikeSaOf(a) === sa));
    for (const s of step.states) values.set(s.actor, s.value);
    const procedure = procedureOf(values.get(sa));
    const input = step.input;
    if (input.message !== undefined && ownerOf(input.message) === sa) rows.push({ kind: 'message', step: i, message: input.message });
    else if (input.kind !== 'datagram' && input.owner !== undefined && ikeSaOf(input.owner) === sa) rows.push({ kind: 'note', step: i, text: input.text });
    for (const m of step.outputs) {
      if (ownerOf(m) !== sa) continue;
      const p = !m.response && procedure !== undefined ? procedure : undefined;
      rows.push(p === undefined ? { kind: 'message', step: i, message: m } : { kind: 'message', step: i, message: m, procedure: p });
    }
    // The SA's and its Child SAs' changes of top state: established, rekeyed, deleted…
    for (const s of step.states) {
      if (ikeSaOf(s.actor) !== sa) continue;
      const top = topState(s.value);
      if (topState(before.get(s.actor)) === top) continue;
      before.set(s.actor, s.value);
      rows.push({ kind: 'note', step: i, text: `${s.actor === sa ? 'IKE SA' : `Child SA ${s.actor.split('/')[1]?.replace('child-', '') ?? ''}`} ${top}` });
    }
  }
  return rows;
}

function renderSequence() {
  const box = $('sequence');
  const sa = model.selected === undefined ? undefined : ikeSaOf(model.selected);
  if (sa === undefined) return;
  $('sequence-title').textContent = `Exchanges of ${sa}`;
  const rows = sequenceRows(sa);
  const firstMessage = rows.find((r) => r.kind === 'message');
  const local = firstMessage?.kind === 'message' ? firstMessage.message.local : 'ikekm';
  const remote = firstMessage?.kind === 'message' ? firstMessage.message.remote : 'peer';
  const t0 = model.steps[rows[0]?.step ?? 0]?.at ?? 0;
  const ROW = 30;
  const TOP = 52;
  const X_LOCAL = 150;
  const X_PEER = 500;
  const width = 560;
  const height = TOP + rows.length * ROW + 20;
  const figure = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `exchanges of ${sa}` });
  figure.append(
    svg('line', { class: 'lifeline', x1: X_LOCAL, y1: 40, x2: X_LOCAL, y2: height }),
    svg('line', { class: 'lifeline', x1: X_PEER, y1: 40, x2: X_PEER, y2: height }),
    svg('g', { class: 'party' }, [svg('rect', { x: X_LOCAL - 70, y: 4, width: 140, height: 36, rx: 4 }), svg('text', { x: X_LOCAL, y: 19 }, ['ikekm']), svg('text', { x: X_LOCAL, y: 34 }, [local])]),
    svg('g', { class: 'party' }, [svg('rect', { x: X_PEER - 58, y: 4, width: 116, height: 36, rx: 4 }), svg('text', { x: X_PEER, y: 19 }, ['peer']), svg('text', { x: X_PEER, y: 34 }, [remote])]),
  );
  /** @type {SVGGElement | undefined} */
  let current;
  rows.forEach((row, n) => {
    const y = TOP + n * ROW;
    const at = model.steps[row.step]?.at ?? t0;
    const classes = ['row', row.kind];
    if (row.step === model.position - 1) classes.push('current');
    const g = svg('g', { class: classes.join(' '), 'data-step': row.step + 1 });
    g.append(svg('rect', { class: 'band', x: 0, y, width, height: ROW }), svg('text', { class: 'time', x: 2, y: y + 19 }, [seconds(at - t0)]));
    if (row.kind === 'message') {
      const m = row.message;
      if (m.repeat) g.classList.add('repeat');
      const [from, to] = m.direction === 'out' ? [X_LOCAL, X_PEER] : [X_PEER, X_LOCAL];
      const label = `${title(m)}${row.procedure ? ` · ${row.procedure}` : ''}${m.repeat ? (m.direction === 'out' ? ' (retransmit)' : ' (again)') : ''}`;
      g.append(
        svg('line', { class: 'arrow', x1: from, y1: y + 22, x2: to + (to > from ? -6 : 6), y2: y + 22, 'marker-end': 'url(#seq-arrow)' }),
        svg('text', { class: 'label', x: (X_LOCAL + X_PEER) / 2, y: y + 16, 'text-anchor': 'middle' }, [label]),
      );
      g.append(svg('title', {}, [describeMessage(m)]));
    } else {
      g.append(svg('text', { class: 'note', x: X_LOCAL + 8, y: y + 19 }, [row.text]));
    }
    if (classes.includes('current')) current ??= g;
    figure.append(g);
  });
  figure.prepend(svg('defs', {}, [svg('marker', { id: 'seq-arrow', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, [svg('path', { d: 'M0,0 L10,5 L0,10 z' })])]));
  box.replaceChildren(figure);
  if (rows.length === 0) box.append(el('p', { class: 'hint' }, ['Nothing of this SA yet at this step.']));
  current?.scrollIntoView({ block: 'nearest' });
}

/** @type {Map<string, Promise<string>>} */
const chartText = new Map();
let shownChart = '';
async function renderChart(/** @type {Map<string, { value: unknown, step: number }>} */ states) {
  const actor = model.selected;
  if (actor === undefined) return;
  const chart = actor.includes('/') ? CHART_OF.child : CHART_OF.ike;
  const box = $('chart');
  if (shownChart !== chart.file) {
    if (!chartText.has(chart.file)) chartText.set(chart.file, fetch(chart.file).then((r) => r.text()));
    const text = await /** @type {Promise<string>} */ (chartText.get(chart.file));
    if (model.selected !== actor) return;
    // One chart in the document at a time: both define the same marker ids.
    box.innerHTML = text;
    shownChart = chart.file;
  }
  const value = states.get(actor)?.value;
  $('chart-title').textContent = `${chart.title} ${actor}: ${value === undefined ? 'not yet' : formatValue(value)}`;
  const active = new Set(value === undefined ? [] : activeStateIds(chart.machine, value));
  /** @type {Element | undefined} */
  let leaf;
  for (const g of box.querySelectorAll('g[data-state]')) {
    const id = g.getAttribute('data-state') ?? '';
    const on = active.has(id);
    const isLeaf = on && ![...active].some((other) => other.startsWith(`${id}.`));
    g.classList.toggle('lit', on);
    g.classList.toggle('lit-leaf', isLeaf);
    if (isLeaf) leaf ??= g;
  }
  if (!box.classList.contains('fit')) leaf?.scrollIntoView({ block: 'center', inline: 'center' });
}

function go(/** @type {number} */ position) {
  model.position = Math.max(0, Math.min(model.steps.length, position));
  render();
}

function start() {
  $('first').addEventListener('click', () => go(0));
  $('prev').addEventListener('click', () => go(model.position - 1));
  $('next').addEventListener('click', () => go(model.position + 1));
  $('last').addEventListener('click', () => go(model.steps.length));
  $('zoom').addEventListener('click', () => {
    const fit = $('chart').classList.toggle('fit');
    $('zoom').textContent = fit ? '1:1' : 'fit';
    render();
  });
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement) return;
    const to = { ArrowRight: model.position + 1, ArrowLeft: model.position - 1, Home: 0, End: model.steps.length }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      go(to);
    }
  });

  const events = new EventSource('/steps');
  events.addEventListener('source', (e) => {
    const source = JSON.parse(/** @type {MessageEvent} */ (e).data);
    model.live = source.kind === 'live';
    $('source').textContent = model.live ? `following the daemon at ${source.name}` : `record ${source.name}`;
    $('follow-label').hidden = !model.live;
  });
  events.addEventListener('step', (e) => {
    const step = /** @type {Step} */ (JSON.parse(/** @type {MessageEvent} */ (e).data));
    const atEnd = model.position === model.steps.length;
    model.steps.push(step);
    learn(step);
    if (model.live && atEnd && /** @type {HTMLInputElement} */ ($('follow')).checked) model.position = model.steps.length;
    // The first SA to appear is selected, so that a page opened on a record shows something.
    model.selected ??= step.states.find((s) => !s.actor.includes('/'))?.actor;
    render();
  });
  events.addEventListener('end', (e) => {
    model.ended = JSON.parse(/** @type {MessageEvent} */ (e).data).reason;
    events.close();
    render();
  });
  events.addEventListener('error', () => {
    if (model.ended === undefined && events.readyState === EventSource.CLOSED) {
      model.ended = 'the inspector is gone';
      render();
    }
  });
  render();
}

start();
