// Shared helpers of the portal: the API client, the session, translations, element building, formatting,
// tables, forms and problem display. Page modules import only from here (and chart.js).

const TOKEN_KEY = 'carbonx.session';
const LANG_KEY = 'carbonx.lang';
const ZONE = 'Asia/Shanghai';

// ---------------------------------------------------------------- translations

const dictionaries = { zh: {}, en: {} };
let currentLang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';

/** Register messages: {zh: {key: text}, en: {key: text}}. Later registrations win. */
export function addMessages(messages) {
  for (const code of Object.keys(dictionaries)) Object.assign(dictionaries[code], messages[code] || {});
}

/** The current language, 'zh' (default) or 'en'. */
export function lang() {
  return currentLang;
}

export function setLang(code) {
  currentLang = code === 'en' ? 'en' : 'zh';
  localStorage.setItem(LANG_KEY, currentLang);
  document.documentElement.lang = currentLang === 'zh' ? 'zh-CN' : 'en';
}

/** The message for key in the current language ({name} placeholders filled from vars); the key itself when
 * no dictionary has it, so plain text passes through unchanged. */
export function t(key, vars = {}) {
  const text = dictionaries[currentLang][key] ?? dictionaries.zh[key] ?? key;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Pick the field of a bilingual record: pick(row, 'title') → row.title_zh or row.title_en. */
export function pick(record, base) {
  if (!record) return '';
  const mine = record[`${base}_${currentLang}`];
  return mine || record[`${base}_zh`] || record[`${base}_en`] || '';
}

// ---------------------------------------------------------------- session

function loadSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
    return stored && stored.token ? stored : null;
  } catch {
    return null;
  }
}

/** {token, user: <GET /auth/me body>} or null. A live binding: read it when you need it. */
export let session = loadSession();

export function setSession(value) {
  session = value;
  if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function hasRole(role) {
  return Boolean(session && session.user && session.user.roles.includes(role));
}

export function hasAnyRole(roles) {
  return roles.some(hasRole);
}

// ---------------------------------------------------------------- navigation

/** The query part of the current hash (#/login?next=…) as URLSearchParams. */
export function hashQuery() {
  const hash = location.hash;
  const at = hash.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
}

/** Go to a portal page: go('#/projects/3'). */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

let leaving = [];

/** Go to hash after a short pause (to let a success note be read), unless the page is left before. */
export function goSoon(hash, ms = 700) {
  const timer = setTimeout(() => go(hash), ms);
  onLeave(() => clearTimeout(timer));
}

/** Run fn when the current page is left (close a WebSocket, stop a timer). */
export function onLeave(fn) {
  leaving.push(fn);
}

/** Called by the router before it shows another page. */
export function leavePage() {
  const pending = leaving;
  leaving = [];
  for (const fn of pending) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
}

// ---------------------------------------------------------------- the API client

export class ProblemError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** Call the JSON API. body: an object (sent as JSON) or FormData; query: an object (null/'' left out);
 * raw: return the Response itself. Returns the parsed JSON (null for 204). Throws ProblemError. */
export async function api(method, path, { body, query, headers = {}, raw = false } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes('?') ? '&' : '?') + text;
  }
  const sent = { ...headers, Accept: 'application/json, application/problem+json' };
  const token = session && session.token;
  if (token) sent.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    sent['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body: payload });
  } catch {
    throw new ProblemError(0, { title: t('problem.network'), detail: t('problem.network_detail') });
  }
  if (response.status === 401 && token) {
    // The token expired or was revoked: start over at the login page, then come back here.
    setSession(null);
    const back = location.hash && !location.hash.startsWith('#/login') ? location.hash : '#/home';
    go(`#/login?next=${encodeURIComponent(back)}`);
  }
  if (!response.ok) {
    let problem = null;
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) {
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
    }
    throw new ProblemError(response.status, problem || { title: `HTTP ${response.status}` });
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** Fetch every page of a paged list (items/total/offset/limit), up to max items. */
export async function apiAll(path, query = {}, max = 1000) {
  const items = [];
  for (let offset = 0; offset < max;) {
    const page = await api('GET', path, { query: { ...query, offset, limit: 200 } });
    items.push(...page.items);
    offset += page.items.length;
    if (!page.items.length || offset >= page.total) break;
  }
  return items;
}

// ---------------------------------------------------------------- elements

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const PROPERTIES = new Set(['value', 'checked', 'selected', 'indeterminate']);

function applyAttrs(el, attrs) {
  const late = [];
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (name === 'text') el.textContent = String(value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'style') throw new Error('inline styles are refused by the CSP: use a class');
    else if (PROPERTIES.has(name)) late.push([name, value]);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  return late;
}

/** Build an element: h('a', {href: '#/x', class: 'btn', onClick: fn, 'data-id': 3}, 'text', child, [more]).
 * attrs: class (string or list), text, on<Event> handlers, value/checked (set as properties after the
 * children, so a select's options exist), any other attribute (true → present, false/null → absent).
 * No inline style: the Content-Security-Policy refuses it. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  const late = applyAttrs(el, attrs);
  appendChildren(el, children);
  for (const [name, value] of late) el[name] = value;
  return el;
}

/** The same for SVG elements (charts). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

/** Replace the contents of el with children. */
export function mount(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

// ---------------------------------------------------------------- formatting

function groupDigits(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Integer fen → "¥1,234.56" (negative: "-¥1,234.56"). */
export function fmtYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '—';
  const value = BigInt(fen);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}¥${groupDigits((abs / 100n).toString())}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** A quantity with thousands separators, keeping the decimals it has: "1234.5" → "1,234.5". */
export function fmtNumber(value) {
  if (value === null || value === undefined || value === '') return '—';
  const text = String(value);
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(text);
  return match ? `${match[1]}${groupDigits(match[2])}${match[3] || ''}` : text;
}

/** Tonnes → "1,234 tCO2e" (decimal strings keep their decimals). */
export function fmtTonnes(tonnes) {
  if (tonnes === null || tonnes === undefined || tonnes === '') return '—';
  return `${fmtNumber(tonnes)} tCO2e`;
}

function parts(date, options) {
  const found = {};
  for (const part of new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hourCycle: 'h23', ...options })
    .formatToParts(date)) {
    found[part.type] = part.value;
  }
  return found;
}

/** An ISO date or date-time → "2026-11-23" (the day in Asia/Shanghai). */
export function fmtDate(iso) {
  if (!iso) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso; // a calendar date has no time zone to convert
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const p = parts(date, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return `${p.year}-${p.month}-${p.day}`;
}

/** An ISO date-time → "2026-11-23 10:00" in Asia/Shanghai. */
export function fmtDateTime(iso) {
  if (!iso) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const p = parts(date, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// ---------------------------------------------------------------- building blocks

/** A table. columns: [{key | render(row), label (message key or text), num: true for right-aligned
 * numbers, class}]; rows: a list of objects. Shows one "nothing here" row when rows is empty. */
export function table(columns, rows, { empty = 'common.empty', caption } = {}) {
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: [c.num && 'num', c.class], scope: 'col' },
    t(c.label)))));
  const body = h('tbody');
  if (!rows || rows.length === 0) {
    body.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, t(empty))));
  }
  for (const row of rows || []) {
    body.append(h('tr', {}, columns.map((c) => {
      const value = c.render ? c.render(row) : row[c.key];
      return h('td', { class: [c.num && 'num', c.class], 'data-label': t(c.label) },
        value === null || value === undefined || value === '' ? '—' : value);
    })));
  }
  return h('div', { class: 'table-wrap' }, h('table', {}, caption ? h('caption', {}, caption) : null, head, body));
}

/** A status badge: badge('public_notice', 'status.public_notice'). */
export function badge(state, label = `status.${state}`) {
  return h('span', { class: ['badge', `badge-${String(state).replace(/[^a-z0-9_-]/gi, '')}`] }, t(label));
}

/** A definition list of [label key, value] pairs. */
export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.filter(Boolean).map(([label, value]) => [
    h('dt', {}, t(label)),
    h('dd', {}, value === null || value === undefined || value === '' ? '—' : value),
  ]));
}

/** A page heading with an optional lead paragraph. */
export function heading(title, lead) {
  return [h('h1', {}, t(title)), lead ? h('p', { class: 'lead' }, t(lead)) : null];
}

/** Render an error into container: a ProblemError's title and detail in the current language, each rule
 * violation with its code (JX-…) and field, each malformed field with its path. Returns the box. */
export function showProblem(container, err) {
  const problem = err instanceof ProblemError ? err.problem : { title: t('problem.unexpected'), detail: String(err && err.message || err) };
  if (!(err instanceof ProblemError)) console.error(err);
  const detail = currentLang === 'zh' ? problem.detail_zh || problem.detail : problem.detail || problem.detail_zh;
  const box = h('div', { class: 'problem', role: 'alert' },
    h('strong', {}, problemTitle(err, problem)),
    detail ? h('p', {}, detail) : null,
    problem.violations && problem.violations.length
      ? h('ul', { class: 'violations' }, problem.violations.map((v) => h('li', {},
        h('code', { class: 'rule' }, v.code), ' ',
        currentLang === 'zh' ? v.message_zh || v.message_en : v.message_en || v.message_zh,
        v.field ? h('span', { class: 'field' }, ` (${v.field})`) : null)))
      : null,
    problem.errors && problem.errors.length
      ? h('ul', { class: 'field-errors' }, problem.errors.map((e) => h('li', {},
        h('code', {}, e.field), ' ', e.message)))
      : null,
    problem.request_id ? h('p', { class: 'muted small' }, t('problem.request_id', { id: problem.request_id })) : null);
  if (container) mount(container, box);
  return box;
}

function problemTitle(err, problem) {
  if (!(err instanceof ProblemError)) return problem.title;
  const key = `problem.${err.status}`;
  const known = t(key);
  return known !== key ? known : problem.title || `HTTP ${err.status}`;
}

/** A short success note in container. */
export function showNotice(container, text) {
  return mount(container, h('div', { class: 'notice', role: 'status' }, text));
}

let fieldCounter = 0;

/** A labelled form. fields: [{name, label (key), type ('text', 'password', 'number', 'date', 'textarea',
 * 'select', 'checkbox', 'file', 'decimal' — digits with an optional fraction), required, value, options
 * ([{value, label}] for select), min, max, step, maxlength, pattern, placeholder, help (key), accept}].
 * On submit the values are checked (messages beside each field, in the current language), then
 * onSubmit(values, formEl) runs with values {name: string | boolean | File | null}; a thrown ProblemError is
 * shown above the button and its field errors beside their fields. options: {submit: label key, class}. */
export function form(fields, onSubmit, { submit = 'common.submit', class: extra } = {}) {
  const inputs = {};
  const messages = {};
  const rows = fields.map((field) => {
    const id = `f${++fieldCounter}-${field.name}`;
    const input = makeInput(field, id);
    inputs[field.name] = input;
    messages[field.name] = h('span', { class: 'field-message', id: `${id}-message`, 'aria-live': 'polite' });
    const label = h('label', { for: id }, t(field.label), field.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
    return h('div', { class: ['field', `field-${field.type || 'text'}`] },
      field.type === 'checkbox' ? [input, label] : [label, input],
      field.help ? h('small', { class: 'help' }, t(field.help)) : null, messages[field.name]);
  });
  const status = h('div', { class: 'form-status' });
  const button = h('button', { type: 'submit', class: 'btn primary' }, t(submit));
  const el = h('form', { class: ['form', extra], novalidate: true }, rows, status, h('div', { class: 'actions' }, button));
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.replaceChildren();
    let ok = true;
    for (const field of fields) {
      const message = validate(field, inputs[field.name]);
      messages[field.name].textContent = message;
      inputs[field.name].toggleAttribute('aria-invalid', Boolean(message));
      if (message && ok) {
        inputs[field.name].focus();
        ok = false;
      }
    }
    if (!ok) return;
    const values = {};
    for (const field of fields) values[field.name] = readValue(field, inputs[field.name]);
    button.disabled = true;
    el.classList.add('busy');
    try {
      await onSubmit(values, el);
    } catch (err) {
      showProblem(status, err);
      for (const e of (err instanceof ProblemError && err.problem.errors) || []) {
        const name = String(e.field).split('.').find((part) => part in messages);
        if (name) messages[name].textContent = e.message;
      }
    } finally {
      button.disabled = false;
      el.classList.remove('busy');
    }
  });
  el.inputs = inputs;
  el.status = status;
  return el;
}

function makeInput(field, id) {
  const common = { id, name: field.name, required: field.required, placeholder: field.placeholder && t(field.placeholder),
    maxlength: field.maxlength, 'aria-describedby': `${id}-message` };
  switch (field.type) {
    case 'textarea':
      return h('textarea', { ...common, rows: field.rows || 4, value: field.value ?? '' });
    case 'select':
      return h('select', { ...common, value: field.value ?? '' },
        (field.options || []).map((o) => h('option', { value: o.value }, t(o.label))));
    case 'multiselect': // several choices (Ctrl/⌘ or Shift to add); read as a list of values
      return h('select', { ...common, multiple: true, size: Math.min(6, Math.max(2, (field.options || []).length)) },
        (field.options || []).map((o) => h('option', { value: o.value }, t(o.label))));
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox', checked: Boolean(field.value) });
    case 'file':
      return h('input', { ...common, type: 'file', accept: field.accept });
    case 'decimal':
      return h('input', { ...common, type: 'text', inputmode: 'decimal', value: field.value ?? '' });
    default:
      return h('input', { ...common, type: field.type || 'text', min: field.min, max: field.max, step: field.step,
        pattern: field.pattern, autocomplete: field.autocomplete, value: field.value ?? '' });
  }
}

function validate(field, input) {
  if (field.type === 'checkbox') return field.required && !input.checked ? t('form.required') : '';
  if (field.type === 'file') return field.required && !input.files.length ? t('form.required_file') : '';
  if (field.type === 'multiselect') return field.required && !input.selectedOptions.length ? t('form.required') : '';
  const value = input.value.trim();
  if (!value) return field.required ? t('form.required') : '';
  if (field.type === 'decimal' && !/^-?\d{1,15}(\.\d{1,10})?$/.test(value)) return t('form.decimal');
  if (field.type === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n) || (field.step === undefined && !Number.isInteger(n))) return t('form.integer');
    if (field.min !== undefined && n < Number(field.min)) return t('form.min', { min: field.min });
    if (field.max !== undefined && n > Number(field.max)) return t('form.max', { max: field.max });
  }
  if (field.type === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return t('form.date');
  if (field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value)) return t('form.pattern');
  if (field.maxlength && value.length > field.maxlength) return t('form.maxlength', { max: field.maxlength });
  return '';
}

function readValue(field, input) {
  if (field.type === 'checkbox') return input.checked;
  if (field.type === 'file') return input.files[0] || null;
  if (field.type === 'multiselect') return [...input.selectedOptions].map((o) => o.value);
  return input.value.trim();
}

/** Upload a file to POST /documents; resolves to its record ({sha256, ...}). */
export async function uploadDocument(file) {
  const body = new FormData();
  body.append('file', file, file.name);
  return api('POST', '/documents', { body });
}

/** A "loading…" placeholder. */
export function loading() {
  return h('p', { class: 'loading muted' }, t('common.loading'));
}

/** A titled card section. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, t(title)) : null, children);
}

export function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, t(label)));
}

/** A block that loads itself and can be reloaded after an action: block(async (reload) => element). */
export function block(loader) {
  const box = h('div', { class: 'block' }, loading());
  const reload = async () => {
    try {
      mount(box, await loader(reload));
    } catch (err) {
      showProblem(box, err);
    }
  };
  box.reload = reload;
  reload();
  return box;
}

/** Shown on a page for signed-in roles when the visitor may not use it; returns true when it was shown. */
export function refuseUnlessRole(view, roles) {
  if (session && hasAnyRole(roles)) return false;
  mount(view, h('div', { class: 'card narrow' },
    h('h1', {}, t(session ? 'access.forbidden' : 'access.login_needed')),
    h('p', {}, t('access.roles', { roles: roles.map((r) => t(`role.${r}`)).join(t('common.list_sep')) })),
    session ? null : h('a', { class: 'btn primary', href: `#/login?next=${encodeURIComponent(location.hash)}` },
      t('nav.login'))));
  return true;
}
