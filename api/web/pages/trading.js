// The exchange in the portal: the public market summary, the order book with live depth and trades
// (WebSocket), order entry, the listing board (挂牌点选), negotiated transfers (协议转让), one-sided auctions
// (单向竞价), my orders, fills and cash, and retirement for an event (注销). Every rule stays in the API.
import {
  ProblemError, api, badge, block, card, fmtDateTime, fmtNumber, fmtTonnes, fmtYuan, form, go, h, hasRole, heading, loading, mount,
  onLeave, pick, refuseUnlessRole, session, showNotice, showProblem, stat, svg, table, t,
} from '../lib.js';
import { messages as chartMessages, priceVolumeChart } from '../chart.js';

// ---------------------------------------------------------------- helpers shared by the pages

export const PRICE_PATTERN = '\\d{1,7}(\\.\\d{1,2})?';

/** "60", "60.5", "60.05" (yuan, as typed) → 6000, 6050, 6005 fen; the pattern above has checked the shape. */
export function yuanToFen(text) {
  const [whole, fraction = ''] = String(text).trim().split('.');
  return Number(whole) * 100 + Number(`${fraction}00`.slice(0, 2));
}

/** A fresh client order id: the API answers a repeated one with the first answer, so a double click is safe
 * only while the same id is reused — each form submission makes its own. */
function clientId(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A datetime-local value ("2026-11-23T15:00") read as Beijing time. */
function beijing(local) {
  return `${local}:00+08:00`;
}

/** A form field error raised by the page itself, shown like the API's own. */
function fieldError(field, message) {
  return new ProblemError(422, { title: t('problem.422'), errors: [{ field, message: t(message) }] });
}

/** The message for key, or the raw value when no dictionary knows it (a code the portal has no words for). */
function known(key, raw) {
  const text = t(key);
  return text === key ? raw : text;
}

function sideBadge(side) {
  // Chinese market colours: red for buying, green for selling.
  return h('span', { class: ['badge', side === 'buy' ? 'badge-upheld' : 'badge-admitted'] }, t(`trade.side.${side}`));
}

/** An instrument's status: trading (green) or halted (red). */
export function instrumentBadge(status) {
  return h('span', { class: ['badge', status === 'active' ? 'badge-executed' : 'badge-rejected'] },
    t(`instrument.status.${status}`));
}

function statusBadge(state) {
  return badge(state, `trade.status.${state}`);
}


/** Run an action from a button: disabled while it runs, its answer or problem shown in `out`. */
function action(label, run, { out, kind = 'btn small' } = {}) {
  const button = h('button', { type: 'button', class: kind }, t(label));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
    } catch (err) {
      if (out) showProblem(out, err);
      else throw err;
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

async function instrumentList() {
  return api('GET', '/instruments');
}

/** The instrument named in the route, else the first one; null when none is defined yet. */
function chosen(instruments, code) {
  return instruments.find((i) => i.code === code) || instruments[0] || null;
}

/** A select that moves to the same page for another instrument. */
function instrumentSwitch(instruments, current, page) {
  const select = h('select', { 'aria-label': t('trade.instrument'), class: 'instrument-switch', value: current.code },
    instruments.map((i) => h('option', { value: i.code }, `${i.code} · ${pick(i, 'name')}`)));
  select.addEventListener('change', () => go(`#/${page}/${encodeURIComponent(select.value)}`));
  return h('label', { class: 'toolbar-field' }, h('span', { class: 'muted' }, t('trade.instrument')), ' ', select);
}

function noInstruments(view) {
  mount(view, heading('market.title', 'market.lead'), h('p', { class: 'warning' }, t('market.no_instruments')));
}

function tradesToPoints(trades) {
  return trades.slice().reverse().map((tr) => ({ label: fmtDateTime(tr.at).slice(11), price_fen: tr.price_fen,
    volume_t: tr.quantity_t }));
}

const TIME_OPTIONS = [
  { value: 'GTC', label: 'trade.tif.GTC' }, { value: 'DAY', label: 'trade.tif.DAY' },
  { value: 'IOC', label: 'trade.tif.IOC' }, { value: 'FOK', label: 'trade.tif.FOK' },
  { value: 'GTD', label: 'trade.tif.GTD' },
];
const SIDES = [{ value: 'buy', label: 'trade.side.buy' }, { value: 'sell', label: 'trade.side.sell' }];

// ---------------------------------------------------------------- market summary (public)

async function marketPage(view, args) {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(args[0] || '') ? args[0] : '';
  const [summary, instruments, calendar] = await Promise.all([
    api('GET', '/market/summary', { query: { day } }), instrumentList(), api('GET', '/market/calendar')]);
  const dayInput = h('input', { type: 'date', name: 'day', value: summary.trading_day, 'aria-label': t('market.day') });
  const dayForm = h('form', { class: 'inline-form', onSubmit: (event) => {
    event.preventDefault();
    if (dayInput.value) go(`#/market/${dayInput.value}`);
  } }, dayInput, h('button', { type: 'submit', class: 'btn' }, t('market.show_day')));
  const byCode = Object.fromEntries(instruments.map((i) => [i.code, i]));
  const rows = summary.instruments.map((row) => ({ ...row, instrument_row: byCode[row.instrument] }));
  mount(view,
    heading('market.title', 'market.lead'),
    h('div', { class: 'toolbar' }, dayForm, h('span', { class: 'spacer' }), sessionBadge(calendar)),
    h('div', { class: 'stats' },
      stat('market.trading_day', summary.trading_day),
      stat('market.volume', fmtTonnes(summary.volume_t)),
      stat('market.turnover', fmtYuan(summary.turnover_fen)),
      stat('market.instruments', fmtNumber(instruments.length))),
    table([
      { label: 'trade.instrument', render: (r) => h('a', { href: `#/book/${encodeURIComponent(r.instrument)}` },
        h('strong', {}, r.instrument), h('br'), h('span', { class: 'muted small' }, pick(r, 'name'))) },
      { label: 'market.status', render: (r) => (r.instrument_row ? instrumentBadge(r.instrument_row.status) : null) },
      { label: 'market.open', num: true, render: (r) => r.bar && fmtYuan(r.bar.open_fen) },
      { label: 'market.high', num: true, render: (r) => r.bar && fmtYuan(r.bar.high_fen) },
      { label: 'market.low', num: true, render: (r) => r.bar && fmtYuan(r.bar.low_fen) },
      { label: 'market.close', num: true, render: (r) => r.bar && fmtYuan(r.bar.close_fen) },
      { label: 'market.volume', num: true, render: (r) => (r.bar ? fmtTonnes(r.bar.volume_t) : fmtTonnes(0)) },
      { label: 'market.turnover', num: true, render: (r) => (r.bar ? fmtYuan(r.bar.turnover_fen) : fmtYuan(0)) },
      { label: 'market.trades', num: true, render: (r) => fmtNumber(r.bar ? r.bar.trades : 0) },
      { label: 'market.links', render: (r) => h('span', { class: 'actions' },
        h('a', { href: `#/book/${encodeURIComponent(r.instrument)}` }, t('nav.book')),
        h('a', { href: `#/listings/${encodeURIComponent(r.instrument)}` }, t('nav.listings')),
        h('a', { href: `#/auctions/${encodeURIComponent(r.instrument)}` }, t('nav.auctions'))) },
    ], rows, { empty: 'market.no_instruments' }),
    instruments.map((instrument) => card(null,
      h('h2', {}, t('market.history', { code: instrument.code })),
      block(async () => {
        const code = encodeURIComponent(instrument.code);
        const [bars, book] = await Promise.all([api('GET', `/market/${code}/ohlcv`),
          api('GET', `/market/${code}/depth`, { query: { levels: 1 } })]);
        return [h('p', { class: 'muted small' }, pick(instrument, 'name'), ' · ', t('market.reference'), ' ',
          fmtYuan(book.reference_price_fen)),
        priceVolumeChart(bars.map((b) => ({ label: b.trading_day.slice(5), price_fen: b.close_fen,
          high_fen: b.high_fen, low_fen: b.low_fen, volume_t: b.volume_t })), { title: 'market.chart_title' })];
      }))));
}

function sessionBadge(calendar) {
  const hours = calendar.always_open ? t('market.always_open')
    : calendar.sessions.map(([from, to]) => `${from}–${to}`).join(t('common.list_sep'));
  return h('span', { class: 'session-state' }, badge(calendar.state === 'open' ? 'executed' : calendar.state === 'closed' ? 'cancelled' : 'requested',
    `market.state.${calendar.state}`), ' ', h('span', { class: 'muted small' }, t('market.hours', { hours })));
}

// ---------------------------------------------------------------- order book with live data

async function bookPage(view, args) {
  const instruments = await instrumentList();
  const instrument = chosen(instruments, args[0]);
  if (!instrument) return noInstruments(view);
  const code = encodeURIComponent(instrument.code);
  let [depth, trades] = await Promise.all([
    api('GET', `/market/${code}/depth`, { query: { levels: 10 } }),
    api('GET', `/market/${code}/trades`, { query: { limit: 60 } })]);
  const trader = hasRole('trader');
  const live = h('span', { class: 'live-state' });
  const statsBox = h('div', {});
  const ladder = h('div', { class: 'ladder' });
  const tradesBox = h('div', {});
  const chartBox = h('div', {});
  let entry = null;

  function setLive(state) {
    mount(live, badge({ live: 'executed', connecting: 'requested', offline: 'cancelled' }[state], `book.${state}`));
  }

  function drawStats() {
    const bar = depth.bar || {};
    const band = depth.price_band_fen;
    mount(statsBox,
      h('div', { class: 'stats' },
        stat('book.last', fmtYuan(bar.close_fen ?? null)),
        stat('book.high_low', bar.high_fen ? `${fmtYuan(bar.high_fen)} / ${fmtYuan(bar.low_fen)}` : '—'),
        stat('market.volume', fmtTonnes(bar.volume_t || 0)),
        stat('market.turnover', fmtYuan(bar.turnover_fen || 0))),
      h('p', { class: 'muted small' }, t('market.reference'), ' ', fmtYuan(depth.reference_price_fen), ' · ',
        t('book.band'), ' ', band ? `${fmtYuan(band[0])} – ${fmtYuan(band[1])}` : t('book.no_band')));
  }

  function drawLadder() {
    const asks = depth.depth.asks.slice(0, 10);
    const bids = depth.depth.bids.slice(0, 10);
    const most = Math.max(1, ...asks.map((l) => l.quantity_t), ...bids.map((l) => l.quantity_t));
    const rows = [
      ...asks.map((level, i) => ({ ...level, side: 'sell', rank: i + 1 })).reverse(),
      ...bids.map((level, i) => ({ ...level, side: 'buy', rank: i + 1 })),
    ];
    mount(ladder, table([
      { label: 'book.level', render: (r) => h('span', { class: 'muted' }, t(`book.${r.side}_level`, { n: r.rank })) },
      { label: 'book.price', num: true, render: (r) => (entry
        ? h('button', { type: 'button', class: 'btn link small', title: t('book.use_price'),
          onClick: () => usePrice(r.price_fen) }, fmtYuan(r.price_fen))
        : fmtYuan(r.price_fen)) },
      { label: 'book.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
      { label: 'book.orders', num: true, render: (r) => fmtNumber(r.order_count) },
      { label: 'book.depth', render: (r) => depthBar(r.quantity_t / most, r.side) },
    ], rows, { empty: 'book.empty' }));
  }

  function drawTrades() {
    mount(tradesBox, table([
      { label: 'book.time', render: (r) => fmtDateTime(r.at) },
      { label: 'book.price', num: true, render: (r) => fmtYuan(r.price_fen) },
      { label: 'book.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
      { label: 'book.aggressor', render: (r) => (r.aggressor ? sideBadge(r.aggressor) : t('book.call')) },
    ], trades.slice(0, 20), { empty: 'book.no_trades' }));
    mount(chartBox, priceVolumeChart(tradesToPoints(trades), { title: 'book.chart_title', caption: 'chart.caption_trades' }));
  }

  function usePrice(fen) {
    entry.inputs.price.value = (fen / 100).toFixed(2);
    entry.inputs.order_type.value = 'LIMIT';
    entry.inputs.price.focus();
  }

  const myOrders = trader ? block(async (reload) => {
    const open = (await api('GET', '/orders', { query: { status: 'open' } })).filter((o) => o.kind === 'order');
    const out = h('div');
    return h('div', {}, out, orderTable(open, reload, out, { compact: true }));
  }) : null;

  if (trader) {
    const result = h('div');
    entry = form([
      { name: 'side', label: 'trade.side', type: 'select', options: SIDES, value: 'buy' },
      { name: 'order_type', label: 'trade.order_type', type: 'select', value: 'LIMIT',
        options: [{ value: 'LIMIT', label: 'trade.type.LIMIT' }, { value: 'MARKET', label: 'trade.type.MARKET' }] },
      { name: 'price', label: 'trade.price_yuan', pattern: PRICE_PATTERN, placeholder: 'trade.price_placeholder',
        help: 'trade.price_help' },
      { name: 'quantity', label: 'trade.quantity_t', type: 'number', min: 1, required: true },
      { name: 'tif', label: 'trade.tif', type: 'select', options: TIME_OPTIONS, value: 'GTC' },
      { name: 'expires', label: 'trade.expires', type: 'datetime-local', help: 'trade.expires_help' },
    ], async (values) => {
      const body = { instrument: instrument.code, client_order_id: clientId('web'), side: values.side,
        order_type: values.order_type, quantity_t: Number(values.quantity) };
      if (values.order_type === 'LIMIT') {
        if (!values.price) throw fieldError('price', 'trade.price_needed');
        body.price_fen = yuanToFen(values.price);
      }
      if (values.order_type === 'LIMIT' || values.tif !== 'GTC') body.tif = values.tif;
      if (values.tif === 'GTD') {
        if (!values.expires) throw fieldError('expires', 'trade.expires_needed');
        body.expires_at = beijing(values.expires);
      }
      const order = await api('POST', '/orders', { body });
      showNotice(result, t('trade.order_placed', { id: order.id, status: t(`trade.status.${order.status}`),
        filled: fmtTonnes(order.filled_t), remaining: fmtTonnes(order.remaining_t) }));
      myOrders.reload();
    }, { submit: 'trade.place', class: 'order-entry' });
    entry.prepend(result);
  }

  mount(view,
    h('div', { class: 'toolbar' }, instrumentSwitch(instruments, instrument, 'book'), h('span', { class: 'spacer' }),
      live, h('a', { class: 'btn small', href: `#/listings/${code}` }, t('nav.listings')),
      h('a', { class: 'btn small', href: `#/auctions/${code}` }, t('nav.auctions'))),
    h('h1', {}, pick(instrument, 'name'), ' ', h('span', { class: 'muted' }, instrument.code), ' ',
      instrumentBadge(instrument.status)),
    h('p', { class: 'lead' }, t('book.lead')),
    statsBox,
    h('div', { class: 'split' },
      card('book.depth_title', ladder),
      trader ? card('book.entry_title', entry)
        : card('book.entry_title', h('p', {}, t(session ? 'book.traders_only' : 'book.login_to_trade')),
          session ? null : h('a', { class: 'btn primary', href: `#/login?next=${encodeURIComponent(location.hash)}` },
            t('nav.login')))),
    card('book.chart_title', chartBox),
    h('div', { class: 'split' }, card('book.trades_title', tradesBox),
      trader ? card('book.my_open', myOrders) : null));
  drawStats();
  drawLadder();
  drawTrades();
  connect();

  function connect() {
    let left = false;
    let socket = null;
    let delay = 1000;
    const open = () => {
      setLive('connecting');
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      socket = new WebSocket(`${scheme}://${location.host}/ws/market/${code}`);
      socket.addEventListener('open', () => {
        delay = 1000;
        setLive('live');
      });
      socket.addEventListener('message', (event) => {
        const message = JSON.parse(event.data);
        if (message.type === 'book') {
          depth = message;
          drawStats();
          drawLadder();
        } else if (message.type === 'trade') {
          trades = [{ id: message.trade_id, price_fen: message.price_fen, quantity_t: message.quantity_t,
            aggressor: message.aggressor, at: new Date(message.ts_ms).toISOString() }, ...trades].slice(0, 200);
          drawTrades();
          if (myOrders) myOrders.reload();
        }
      });
      socket.addEventListener('close', () => {
        if (left) return;
        setLive('offline');
        setTimeout(() => { if (!left) open(); }, delay);
        delay = Math.min(delay * 2, 15000);
      });
    };
    onLeave(() => {
      left = true;
      if (socket) socket.close();
    });
    open();
  }
}

function depthBar(share, side) {
  const width = Math.max(1, Math.round(share * 100));
  return svg('svg', { viewBox: '0 0 100 12', width: '100%', height: 12, preserveAspectRatio: 'none',
    'aria-hidden': 'true', class: 'depth-bar' },
  svg('rect', { x: side === 'buy' ? 0 : 100 - width, y: 0, width, height: 12, rx: 2,
    fill: side === 'buy' ? '#f2b8b5' : '#a8d5bf' }));
}

// ---------------------------------------------------------------- my orders, fills

const CANCEL_ROUTE = { order: 'orders', listing: 'listings', proposal: 'proposals', auction: 'auctions' };

function orderTable(orders, reload, out, { compact = false } = {}) {
  const cancel = (o) => (o.status === 'open' && CANCEL_ROUTE[o.kind]
    ? action('trade.cancel', async () => {
      await api('DELETE', `/${CANCEL_ROUTE[o.kind]}/${o.id}`);
      showNotice(out, t('trade.cancelled', { id: o.id }));
      reload();
    }, { out }) : null);
  // Only a resting limit order of the book can be amended (PATCH /orders/{id}).
  const amend = (o) => (o.status === 'open' && o.kind === 'order' && o.price_fen
    ? action('trade.amend', async () => {
      mount(out, amendForm(o, reload, out));
      out.querySelector('input')?.focus();
    }) : null);
  const actions = (o) => h('span', { class: 'row-actions' }, amend(o), ' ', cancel(o));
  const price = (o) => (o.price_fen ? fmtYuan(o.price_fen) : t('trade.type.MARKET'));
  const columns = compact ? [
    { label: 'trade.side', render: (o) => sideBadge(o.side) },
    { label: 'trade.price', num: true, render: price },
    { label: 'trade.open_of', num: true, render: (o) => `${fmtNumber(o.remaining_t)} / ${fmtTonnes(o.quantity_t)}` },
    { label: 'trade.actions', render: actions },
  ] : [
    { label: 'trade.id', render: (o) => h('span', { class: 'mono' }, `#${o.id}`) },
    { label: 'trade.kind', render: (o) => t(`trade.kind.${o.kind}`) },
    { label: 'trade.side', render: (o) => sideBadge(o.side) },
    { label: 'trade.price', num: true, render: price },
    { label: 'trade.quantity', num: true, render: (o) => fmtTonnes(o.quantity_t) },
    { label: 'trade.filled', num: true, render: (o) => fmtTonnes(o.filled_t) },
    { label: 'trade.remaining', num: true, render: (o) => fmtTonnes(o.remaining_t) },
    { label: 'trade.tif', render: (o) => (o.tif ? known(`trade.tif.${o.tif}`, o.tif) : null) },
    { label: 'trade.status', render: (o) => [statusBadge(o.status), o.reason ? h('div', { class: 'muted small' }, o.reason) : null] },
    { label: 'trade.time', render: (o) => fmtDateTime(o.created_at) },
    { label: 'trade.actions', render: actions },
  ];
  return table(columns, orders, { empty: 'trade.no_orders' });
}

/** Change a resting order's price and/or open quantity; only what was changed is sent, so a pure cut keeps
 * the order's time priority (a new price or a raise loses it, as the engine rules). */
function amendForm(order, reload, out) {
  const yuan = (order.price_fen / 100).toFixed(2);
  const el = form([
    { name: 'price', label: 'trade.price_yuan', pattern: PRICE_PATTERN, required: true, value: yuan },
    { name: 'quantity', label: 'trade.amend_open_t', type: 'number', min: 1, required: true, value: String(order.remaining_t),
      help: 'trade.amend_help' },
  ], async (values) => {
    const body = {};
    if (yuanToFen(values.price) !== order.price_fen) body.price_fen = yuanToFen(values.price);
    if (Number(values.quantity) !== order.remaining_t) body.quantity_t = Number(values.quantity);
    if (!Object.keys(body).length) {
      showNotice(el.status, t('trade.amend_nothing'));
      return;
    }
    const amended = await api('PATCH', `/orders/${order.id}`, { body });
    showNotice(out, t('trade.amended', { id: order.id, open: fmtTonnes(amended.remaining_t),
      price: fmtYuan(amended.price_fen) }));
    reload();
  }, { submit: 'trade.amend_submit', class: 'inline' });
  return h('section', { class: 'card amend', 'data-amend': order.id },
    h('h3', {}, t('trade.amend_title', { id: order.id })), el);
}

async function myOrdersPage(view, args) {
  if (refuseUnlessRole(view, ['trader'])) return;
  const status = ['open', 'filled', 'cancelled', 'expired', 'rejected'].includes(args[0]) ? args[0] : '';
  const filter = h('select', { 'aria-label': t('trade.status'), value: status },
    ['', 'open', 'filled', 'cancelled', 'expired', 'rejected'].map((s) => h('option', { value: s },
      t(s ? `trade.status.${s}` : 'trade.all'))));
  filter.addEventListener('change', () => go(filter.value ? `#/my-orders/${filter.value}` : '#/my-orders'));
  const out = h('div');
  mount(view,
    heading('orders.title', 'orders.lead'),
    h('div', { class: 'toolbar' }, h('label', { class: 'toolbar-field' }, h('span', { class: 'muted' }, t('trade.status')), ' ', filter)),
    out,
    card('orders.orders', block(async (reload) => orderTable(
      await api('GET', '/orders', { query: { status, limit: 200 } }), reload, out))),
    card('orders.fills', block(async () => {
      const fills = await api('GET', '/fills', { query: { limit: 200 } });
      return table([
        { label: 'trade.time', render: (f) => fmtDateTime(f.at) },
        { label: 'orders.trade', render: (f) => h('span', { class: 'mono' }, `#${f.trade_id}`) },
        { label: 'orders.order', render: (f) => h('span', { class: 'mono' }, `#${f.order_id}`) },
        { label: 'trade.side', render: (f) => sideBadge(f.side) },
        { label: 'trade.price', num: true, render: (f) => fmtYuan(f.price_fen) },
        { label: 'trade.quantity', num: true, render: (f) => fmtTonnes(f.quantity_t) },
        { label: 'orders.amount', num: true, render: (f) => fmtYuan(f.price_fen * f.quantity_t) },
        { label: 'orders.fee', num: true, render: (f) => fmtYuan(f.fee_fen) },
      ], fills, { empty: 'orders.no_fills' });
    })));
}

// ---------------------------------------------------------------- cash and credits

async function cashPage(view) {
  if (refuseUnlessRole(view, ['trader', 'owner'])) return;
  const [cash, accounts] = await Promise.all([api('GET', '/cash'), api('GET', '/accounts')]);
  const credits = [];
  for (const account of accounts) {
    const perBatch = {};
    for (const b of account.balances) {
      if (!b.asset.startsWith('CREDIT:')) continue;
      const batch = b.asset.slice(7);
      perBatch[batch] = perBatch[batch] || { account, batch, available: 0, held: 0, retired: 0, revoked: 0 };
      perBatch[batch][b.bucket] = b.amount;
    }
    credits.push(...Object.values(perBatch));
  }
  const balance = cash.balances_fen;
  mount(view,
    heading('cash.title', 'cash.lead'),
    h('div', { class: 'stats' },
      stat('cash.available', fmtYuan(balance.available)),
      stat('cash.held', fmtYuan(balance.held)),
      stat('cash.total', fmtYuan(balance.available + balance.held)),
      stat('cash.credits_available', fmtTonnes(credits.reduce((sum, c) => sum + c.available, 0)))),
    card('cash.credits', table([
      { label: 'cash.account', render: (c) => [h('span', { class: 'mono' }, c.account.code), h('div', { class: 'muted small' }, c.account.label)] },
      { label: 'cash.batch', render: (c) => h('span', { class: 'mono' }, `#${c.batch}`) },
      { label: 'cash.bucket.available', num: true, render: (c) => fmtTonnes(c.available) },
      { label: 'cash.bucket.held', num: true, render: (c) => fmtTonnes(c.held) },
      { label: 'cash.bucket.retired', num: true, render: (c) => fmtTonnes(c.retired) },
      { label: 'cash.bucket.revoked', num: true, render: (c) => fmtTonnes(c.revoked) },
    ], credits, { empty: 'cash.no_credits' }), h('p', { class: 'muted small' }, t('cash.holdings_hint'),
      ' ', h('a', { href: '#/holdings' }, t('cash.holdings_link')))),
    card('cash.movements', table([
      { label: 'trade.time', render: (m) => fmtDateTime(m.at) },
      { label: 'cash.kind', render: (m) => t(`cash.kind.${m.kind}`) },
      { label: 'cash.amount', num: true, render: (m) => fmtYuan(m.kind === 'withdrawal' ? -m.amount_fen : m.amount_fen) },
      { label: 'cash.reference', render: (m) => h('span', { class: 'mono' }, m.bank_reference) },
    ], cash.movements, { empty: 'cash.no_movements' }), h('p', { class: 'muted small' }, t('cash.deposit_hint'))));
}

// ---------------------------------------------------------------- listing board (挂牌点选)

async function listingsPage(view, args) {
  const instruments = await instrumentList();
  const instrument = chosen(instruments, args[0]);
  if (!instrument) return noInstruments(view);
  const side = args[1] === 'buy' ? 'buy' : 'sell';
  const code = encodeURIComponent(instrument.code);
  const trader = hasRole('trader');
  const out = h('div');
  // Whom a listing may be opened to: the participants the trader may name (as for a negotiated transfer).
  const counterparties = trader ? await api('GET', '/market/counterparties') : [];
  const sideSwitch = h('div', { class: 'actions', role: 'group', 'aria-label': t('listings.side') },
    ['sell', 'buy'].map((s) => h('a', { href: `#/listings/${code}/${s}`, class: ['btn small', s === side && 'primary'],
      'aria-current': s === side ? 'page' : null }, t(`listings.side.${s}`))));
  const board = block(async (reload) => {
    const page = await api('GET', '/listings', { query: { instrument: instrument.code, side, limit: 100 } });
    return table([
      { label: 'trade.id', render: (l) => h('span', { class: 'mono' }, `#${l.listing_id}`) },
      { label: 'trade.side', render: (l) => sideBadge(l.side) },
      { label: 'trade.price', num: true, render: (l) => fmtYuan(l.price_fen) },
      { label: 'listings.available', num: true, render: (l) => fmtTonnes(l.quantity_t) },
      { label: 'listings.min_pick', num: true, render: (l) => fmtTonnes(l.min_pick_t) },
      { label: 'cash.batch', render: (l) => (l.batch_id ? h('span', { class: 'mono' }, `#${l.batch_id}`) : t('listings.any_batch')) },
      { label: 'listings.expires', render: (l) => (l.expires_at_ms ? fmtDateTime(new Date(l.expires_at_ms).toISOString()) : t('listings.no_expiry')) },
      { label: 'listings.restricted', render: (l) => (l.restricted ? t('listings.named_only') : t('listings.anyone')) },
      trader ? { label: 'listings.pick', render: (l) => pickForm(l, reload) } : null,
    ].filter(Boolean), page.items, { empty: 'listings.empty' });
  });

  function pickForm(listing, reload) {
    const quantity = h('input', { type: 'number', min: Math.min(listing.min_pick_t, listing.quantity_t),
      max: listing.quantity_t, value: listing.quantity_t, name: `pick-${listing.listing_id}`, class: 'pick-quantity',
      'aria-label': t('listings.pick_quantity', { id: listing.listing_id }) });
    const submit = h('button', { type: 'submit', class: 'btn small primary' }, t(listing.side === 'sell' ? 'listings.buy' : 'listings.sell'));
    return h('form', { class: 'inline-form pick-form', 'data-listing': listing.listing_id, onSubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const answer = await api('POST', `/listings/${listing.listing_id}/pick`,
          { body: { client_order_id: clientId('pick'), quantity_t: Number(quantity.value) } });
        showNotice(out, t('listings.picked', { quantity: fmtTonnes(answer.filled_t), price: fmtYuan(listing.price_fen),
          status: t(`trade.status.${answer.status}`) }));
        reload();
      } catch (err) {
        showProblem(out, err);
      } finally {
        submit.disabled = false;
      }
    } }, quantity, submit);
  }

  const post = trader ? form([
    { name: 'side', label: 'trade.side', type: 'select', options: SIDES, value: 'sell' },
    { name: 'price', label: 'trade.price_yuan', pattern: PRICE_PATTERN, required: true, placeholder: 'trade.price_placeholder' },
    { name: 'quantity', label: 'trade.quantity_t', type: 'number', min: 1, required: true },
    { name: 'min_pick', label: 'listings.min_pick_t', type: 'number', min: 1, value: '1' },
    { name: 'batch', label: 'cash.batch', type: 'select', value: '',
      options: [{ value: '', label: 'listings.any_batch' }, ...instrument.batch_ids.map((b) => ({ value: String(b), label: `#${b}` }))] },
    { name: 'expires', label: 'trade.expires', type: 'datetime-local', help: 'listings.expires_help' },
    { name: 'allowed', label: 'listings.allowed', type: 'multiselect', help: 'listings.allowed_help',
      options: counterparties.map((c) => ({ value: String(c.id), label: `${c.name} (#${c.id})` })) },
  ], async (values) => {
    const body = { instrument: instrument.code, client_order_id: clientId('list'), side: values.side,
      price_fen: yuanToFen(values.price), quantity_t: Number(values.quantity), min_pick_t: Number(values.min_pick || 1) };
    if (values.batch) body.batch_id = Number(values.batch);
    if (values.allowed.length) body.allowed_counterparties = values.allowed.map(Number);
    if (values.expires) body.expires_at = beijing(values.expires);
    const listing = await api('POST', '/listings', { body });
    showNotice(out, t('listings.posted', { id: listing.id, quantity: fmtTonnes(listing.quantity_t),
      price: fmtYuan(listing.price_fen) }));
    board.reload();
  }, { submit: 'listings.post', class: 'wide' }) : null;

  mount(view,
    h('div', { class: 'toolbar' }, instrumentSwitch(instruments, instrument, 'listings'), sideSwitch,
      h('span', { class: 'spacer' }), h('a', { class: 'btn small', href: `#/book/${code}` }, t('nav.book'))),
    heading('listings.title', 'listings.lead'),
    out,
    card(side === 'sell' ? 'listings.board_sell' : 'listings.board_buy', board),
    post ? card('listings.post_title', h('p', { class: 'muted small' }, t('listings.post_help')), post) : null);
}

// ---------------------------------------------------------------- negotiated transfers (协议转让)

async function proposalsPage(view) {
  if (refuseUnlessRole(view, ['trader'])) return;
  const [instruments, counterparties] = await Promise.all([instrumentList(), api('GET', '/market/counterparties')]);
  const names = Object.fromEntries(counterparties.map((c) => [c.id, c.name]));
  const me = session.user.participant_id;
  const who = (id) => (id === me ? t('proposals.me') : names[id] || t('proposals.participant', { id }));
  const out = h('div');
  const inbox = block(async (reload) => {
    const proposals = await api('GET', '/proposals');
    return table([
      { label: 'trade.id', render: (p) => h('span', { class: 'mono' }, `#${p.id}`) },
      { label: 'proposals.direction', render: (p) => badge(p.initiator_participant_id === me ? 'submitted' : 'requested',
        p.initiator_participant_id === me ? 'proposals.sent' : 'proposals.received') },
      { label: 'proposals.from', render: (p) => who(p.initiator_participant_id) },
      { label: 'proposals.to', render: (p) => who(p.counterparty_participant_id) },
      { label: 'proposals.initiator_side', render: (p) => sideBadge(p.side) },
      { label: 'trade.price', num: true, render: (p) => fmtYuan(p.price_fen) },
      { label: 'trade.quantity', num: true, render: (p) => fmtTonnes(p.quantity_t) },
      { label: 'trade.status', render: (p) => statusBadge(p.status) },
      { label: 'listings.expires', render: (p) => fmtDateTime(p.expires_at) },
      { label: 'trade.actions', render: (p) => {
        if (p.status !== 'open') return null;
        if (p.initiator_participant_id === me) {
          return action('proposals.withdraw', async () => {
            await api('DELETE', `/proposals/${p.id}`);
            showNotice(out, t('proposals.withdrawn', { id: p.id }));
            reload();
          }, { out });
        }
        return h('span', { class: 'actions' },
          action('proposals.accept', async () => {
            const answer = await api('POST', `/proposals/${p.id}/accept`);
            showNotice(out, t('proposals.accepted', { id: p.id, status: t(`trade.status.${answer.status}`) }));
            reload();
          }, { out, kind: 'btn small primary' }),
          action('proposals.reject', async () => {
            await api('POST', `/proposals/${p.id}/reject`);
            showNotice(out, t('proposals.rejected', { id: p.id }));
            reload();
          }, { out }));
      } },
    ], proposals, { empty: 'proposals.empty' });
  });
  const propose = instruments.length ? form([
    { name: 'instrument', label: 'trade.instrument', type: 'select', value: instruments[0].code,
      options: instruments.map((i) => ({ value: i.code, label: `${i.code} · ${pick(i, 'name')}` })) },
    { name: 'counterparty', label: 'proposals.counterparty', type: 'select', required: true, value: '',
      options: [{ value: '', label: 'proposals.choose' }, ...counterparties.map((c) => ({ value: String(c.id), label: `${c.name} (#${c.id})` }))] },
    { name: 'side', label: 'proposals.my_side', type: 'select', options: SIDES, value: 'sell' },
    { name: 'price', label: 'trade.price_yuan', pattern: PRICE_PATTERN, required: true, placeholder: 'trade.price_placeholder' },
    { name: 'quantity', label: 'trade.quantity_t', type: 'number', min: 1, required: true },
    { name: 'expires', label: 'trade.expires', type: 'datetime-local', required: true },
  ], async (values) => {
    const proposal = await api('POST', '/proposals', { body: { instrument: values.instrument,
      client_order_id: clientId('prop'), counterparty_participant_id: Number(values.counterparty), side: values.side,
      price_fen: yuanToFen(values.price), quantity_t: Number(values.quantity), expires_at: beijing(values.expires) } });
    showNotice(out, t('proposals.sent_notice', { id: proposal.id, to: who(Number(values.counterparty)) }));
    inbox.reload();
  }, { submit: 'proposals.send', class: 'wide' }) : h('p', { class: 'warning' }, t('market.no_instruments'));
  mount(view, heading('proposals.title', 'proposals.lead'), out, card('proposals.inbox', inbox),
    card('proposals.new', h('p', { class: 'muted small' }, t('proposals.new_help')), propose));
}

// ---------------------------------------------------------------- one-sided auctions (单向竞价)

async function auctionsPage(view, args) {
  const instruments = await instrumentList();
  const instrument = chosen(instruments, args[0]);
  if (!instrument) return noInstruments(view);
  const code = encodeURIComponent(instrument.code);
  const trader = hasRole('trader');
  const out = h('div');
  const list = block(async (reload) => {
    const auctions = await api('GET', '/auctions', { query: { instrument: instrument.code } });
    return table([
      { label: 'trade.id', render: (a) => h('span', { class: 'mono' }, `#${a.id}`) },
      { label: 'auctions.offer', render: (a) => t(`auctions.offer.${a.side}`) },
      { label: 'auctions.lot', num: true, render: (a) => fmtTonnes(a.quantity_t) },
      { label: 'auctions.reserve', num: true, render: (a) => fmtYuan(a.reserve_price_fen) },
      { label: 'auctions.pricing', render: (a) => t(`auctions.pricing.${a.pricing}`) },
      { label: 'auctions.ends', render: (a) => fmtDateTime(a.end_at) },
      { label: 'trade.status', render: (a) => statusBadge(a.status) },
      { label: 'auctions.result', render: (a) => (a.result
        ? t('auctions.result_text', { allocated: fmtTonnes(a.result.allocated_t), trades: a.result.trades,
          prices: a.result.prices_fen.map(fmtYuan).join(' / ') || '—' })
        : t('auctions.sealed')) },
      trader ? { label: 'auctions.bid', render: (a) => (a.status === 'open' ? bidForm(a, reload) : null) } : null,
    ].filter(Boolean), auctions, { empty: 'auctions.empty' });
  });

  function bidForm(auction, reload) {
    const price = h('input', { type: 'text', inputmode: 'decimal', pattern: PRICE_PATTERN, required: true,
      placeholder: t('trade.price_yuan'), 'aria-label': t('auctions.bid_price', { id: auction.id }), class: 'bid-price' });
    const quantity = h('input', { type: 'number', min: 1, max: auction.quantity_t, required: true,
      placeholder: t('trade.quantity_t'), 'aria-label': t('auctions.bid_quantity', { id: auction.id }), class: 'bid-quantity' });
    const submit = h('button', { type: 'submit', class: 'btn small primary' }, t('auctions.place_bid'));
    return h('form', { class: 'inline-form bid-form', onSubmit: async (event) => {
      event.preventDefault();
      if (!new RegExp(`^(?:${PRICE_PATTERN})$`).test(price.value.trim()) || !(Number(quantity.value) >= 1)) {
        showProblem(out, fieldError('price', 'auctions.bid_invalid'));
        return;
      }
      submit.disabled = true;
      try {
        const bid = await api('POST', `/auctions/${auction.id}/bids`, { body: { client_order_id: clientId('bid'),
          price_fen: yuanToFen(price.value), quantity_t: Number(quantity.value) } });
        showNotice(out, t('auctions.bid_placed', { id: bid.id, auction: auction.id }));
        reload();
      } catch (err) {
        showProblem(out, err);
      } finally {
        submit.disabled = false;
      }
    } }, price, quantity, submit);
  }

  const open = trader ? form([
    { name: 'side', label: 'auctions.offer', type: 'select', value: 'sell',
      options: [{ value: 'sell', label: 'auctions.offer.sell' }, { value: 'buy', label: 'auctions.offer.buy' }] },
    { name: 'quantity', label: 'auctions.lot_t', type: 'number', min: 1, required: true },
    { name: 'reserve', label: 'auctions.reserve_yuan', pattern: PRICE_PATTERN, required: true, help: 'auctions.reserve_help' },
    { name: 'end', label: 'auctions.end', type: 'datetime-local', required: true },
    { name: 'pricing', label: 'auctions.pricing', type: 'select', value: 'PAY_AS_BID',
      options: [{ value: 'PAY_AS_BID', label: 'auctions.pricing.PAY_AS_BID' }, { value: 'UNIFORM', label: 'auctions.pricing.UNIFORM' }] },
    { name: 'batch', label: 'cash.batch', type: 'select', value: '',
      options: [{ value: '', label: 'listings.any_batch' }, ...instrument.batch_ids.map((b) => ({ value: String(b), label: `#${b}` }))] },
  ], async (values) => {
    const body = { instrument: instrument.code, client_order_id: clientId('auction'), side: values.side,
      quantity_t: Number(values.quantity), reserve_price_fen: yuanToFen(values.reserve), end_at: beijing(values.end),
      pricing: values.pricing };
    if (values.batch) body.batch_id = Number(values.batch);
    const auction = await api('POST', '/auctions', { body });
    showNotice(out, t('auctions.opened', { id: auction.id }));
    list.reload();
  }, { submit: 'auctions.open', class: 'wide' }) : null;

  mount(view,
    h('div', { class: 'toolbar' }, instrumentSwitch(instruments, instrument, 'auctions'), h('span', { class: 'spacer' }),
      h('a', { class: 'btn small', href: `#/book/${code}` }, t('nav.book'))),
    heading('auctions.title', 'auctions.lead'), out, card('auctions.list', list),
    open ? card('auctions.open_title', open) : null);
}

// ---------------------------------------------------------------- retirement for an event (注销)

function retirementTable(rows, { reload, out, mine = false } = {}) {
  return table([
    { label: 'retire.code', render: (r) => h('span', { class: 'mono' }, r.code) },
    { label: 'trade.status', render: (r) => badge(r.status, `retire.status.${r.status}`) },
    { label: 'trade.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
    { label: 'retire.beneficiary', render: (r) => r.beneficiary },
    { label: 'retire.purpose', render: (r) => [t(`retire.purpose.${r.purpose}`),
      r.details && r.details.event_name ? h('div', { class: 'muted small' }, r.details.event_name) : null] },
    { label: 'retire.serials', class: 'wrap-anywhere', render: (r) => r.serial_blocks.map((s) => h('div', { class: 'mono small' },
      h('a', { href: `#/serial/${encodeURIComponent(s)}` }, s))) },
    { label: 'retire.requested', render: (r) => fmtDateTime(r.requested_at) },
    { label: 'retire.executed', render: (r) => fmtDateTime(r.executed_at) },
    { label: 'retire.certificate', render: (r) => certificateLinks(r, { reload, out, mine }) },
  ], rows, { empty: 'retire.empty' });
}

/** Links to the certificate page (behind the QR code) and its PDF, once executed; a withdrawal before. */
export function certificateLinks(r, { reload, out, mine = false } = {}) {
  if (r.status === 'executed') {
    return h('span', { class: 'actions' },
      h('a', { href: `#/certificates/${r.id}`, class: 'btn small' }, t('retire.verify')),
      h('a', { href: `/retirements/${r.id}/certificate.pdf`, class: 'btn small', download: `${r.code}.pdf` },
        t('retire.pdf')));
  }
  if (mine && r.status === 'requested' && reload) {
    return action('retire.withdraw', async () => {
      await api('POST', `/retirements/${r.id}/cancel`, { body: { reason: t('retire.withdraw_reason') } });
      showNotice(out, t('retire.withdrawn', { code: r.code }));
      reload();
    }, { out });
  }
  return null;
}

async function retirePage(view) {
  if (refuseUnlessRole(view, ['trader', 'owner'])) return;
  const accounts = await api('GET', '/accounts');
  const available = (account) => account.balances.filter((b) => b.asset.startsWith('CREDIT:') && b.bucket === 'available')
    .reduce((sum, b) => sum + b.amount, 0);
  const batches = [...new Set(accounts.flatMap((a) => a.balances.filter((b) => b.asset.startsWith('CREDIT:') && b.amount > 0)
    .map((b) => b.asset.slice(7))))];
  const out = h('div');
  const mine = block(async (reload) => {
    const page = await api('GET', '/retirements', { query: { mine: true, limit: 100 } });
    return retirementTable(page.items, { reload, out, mine: true });
  });
  const request = form([
    { name: 'event_name', label: 'retire.event_name', required: true, maxlength: 200, placeholder: 'retire.event_placeholder' },
    { name: 'event_place', label: 'retire.event_place', required: true, maxlength: 200 },
    { name: 'event_start', label: 'retire.event_start', type: 'date', required: true },
    { name: 'event_end', label: 'retire.event_end', type: 'date', required: true },
    { name: 'emissions', label: 'retire.emissions', type: 'decimal', required: true, help: 'retire.emissions_help' },
    { name: 'quantity', label: 'retire.quantity', type: 'number', min: 1, required: true, help: 'retire.quantity_help' },
    { name: 'beneficiary', label: 'retire.beneficiary', required: true, maxlength: 200, value: session.user.participant_name },
    { name: 'account', label: 'cash.account', type: 'select', value: String(accounts[0] ? accounts[0].id : ''),
      options: accounts.map((a) => ({ value: String(a.id), label: `${a.code} · ${a.label} (${fmtTonnes(available(a))})` })) },
    { name: 'batch', label: 'cash.batch', type: 'select', value: '',
      options: [{ value: '', label: 'retire.lowest_first' }, ...batches.map((b) => ({ value: b, label: `#${b}` }))] },
  ], async (values) => {
    if (values.event_end < values.event_start) throw fieldError('event_end', 'retire.end_before_start');
    const body = { quantity_t: Number(values.quantity), beneficiary: values.beneficiary,
      purpose: { purpose: 'event_neutrality', event_name: values.event_name, event_place: values.event_place,
        event_start: values.event_start, event_end: values.event_end, event_emissions_tco2e: values.emissions } };
    if (values.account) body.account_id = Number(values.account);
    if (values.batch) body.batch_id = Number(values.batch);
    const retirement = await api('POST', '/retirements', { body });
    showNotice(out, t(retirement.status === 'executed' ? 'retire.done' : 'retire.requested_notice',
      { code: retirement.code, quantity: fmtTonnes(retirement.quantity_t) }));
    mine.reload();
  }, { submit: 'retire.submit', class: 'wide' });
  mount(view, heading('retire.title', 'retire.lead'), out,
    card('retire.form_title', h('p', { class: 'muted small' }, t('retire.form_help')), request),
    card('retire.mine', mine));
}

// ---------------------------------------------------------------- the module

export default {
  messages: {
    zh: {
      ...chartMessages.zh,
      'nav.market': '市场行情',
      'nav.book': '竞价交易',
      'nav.listings': '挂牌点选',
      'nav.proposals': '协议转让',
      'nav.auctions': '单向竞价',
      'nav.my_orders': '我的委托与成交',
      'nav.cash': '资金与持仓',
      'nav.retire': '注销（活动碳中和）',
      'nav.market_desc': '每日成交汇总与价格走势',
      'nav.book_desc': '实时买卖盘、逐笔成交与下单',
      'nav.listings_desc': '浏览挂牌并点选成交',
      'nav.proposals_desc': '向指定交易对手发起或回应协议转让',
      'nav.auctions_desc': '拍卖与密封出价',
      'nav.my_orders_desc': '委托、撤单与成交记录',
      'nav.cash_desc': '可用与冻结资金、持有的减排量',
      'nav.retire_desc': '为会议或活动注销减排量并取得证书',
      'trade.instrument': '交易品种',
      'trade.side': '方向',
      'trade.side.buy': '买入',
      'trade.side.sell': '卖出',
      'trade.order_type': '委托类型',
      'trade.type.LIMIT': '限价',
      'trade.type.MARKET': '市价',
      'trade.price': '价格',
      'trade.price_yuan': '价格（元/吨）',
      'trade.price_placeholder': '如 60.00',
      'trade.price_help': '市价委托无需填写价格。',
      'trade.price_needed': '限价委托须填写价格',
      'trade.quantity': '数量',
      'trade.quantity_t': '数量（吨）',
      'trade.tif': '有效期',
      'trade.tif.GTC': '撤销前有效',
      'trade.tif.DAY': '当日有效',
      'trade.tif.IOC': '即时成交剩余撤销',
      'trade.tif.FOK': '全部成交否则撤销',
      'trade.tif.GTD': '指定日期前有效',
      'trade.expires': '到期时间（北京时间）',
      'trade.expires_help': '仅“指定日期前有效”时填写。',
      'trade.expires_needed': '请填写到期时间',
      'trade.place': '提交委托',
      'trade.order_placed': '委托 #{id} 已受理：{status}，已成交 {filled}，未成交 {remaining}。',
      'trade.id': '编号',
      'trade.kind': '方式',
      'trade.kind.order': '竞价委托',
      'trade.kind.listing': '挂牌',
      'trade.kind.pick': '点选',
      'trade.kind.proposal': '协议转让',
      'trade.kind.acceptance': '接受协议',
      'trade.kind.auction': '拍卖',
      'trade.kind.bid': '竞买出价',
      'trade.filled': '已成交',
      'trade.remaining': '未成交',
      'trade.open_of': '未成交 / 委托量',
      'trade.status': '状态',
      'trade.status.open': '有效',
      'trade.status.filled': '全部成交',
      'trade.status.cancelled': '已撤销',
      'trade.status.expired': '已过期',
      'trade.status.rejected': '已拒绝',
      'trade.time': '时间',
      'trade.actions': '操作',
      'trade.cancel': '撤单',
      'trade.amend': '改单',
      'trade.amend_title': '修改委托 #{id}',
      'trade.amend_open_t': '未成交数量（吨）',
      'trade.amend_help': '只减少数量则保留时间优先；改价或增加数量则排到新价位的队尾。',
      'trade.amend_submit': '确认修改',
      'trade.amend_nothing': '价格与数量均未改变。',
      'trade.amended': '#{id} 已修改：未成交 {open}，价格 {price}。',
      'trade.cancelled': '#{id} 已撤销，冻结的资金或减排量已释放。',
      'trade.no_orders': '暂无委托',
      'trade.all': '全部',
      'instrument.status.active': '交易中',
      'instrument.status.halted': '已暂停',
      'market.title': '市场行情',
      'market.lead': '每个交易日的成交汇总与价格走势（依《办法》第二十四条公开）。价格单位为元/吨，数量为吨二氧化碳当量。',
      'market.day': '交易日',
      'market.show_day': '查看该日',
      'market.trading_day': '交易日',
      'market.volume': '成交量',
      'market.turnover': '成交额',
      'market.instruments': '交易品种数',
      'market.status': '状态',
      'market.open': '开盘',
      'market.high': '最高',
      'market.low': '最低',
      'market.close': '收盘',
      'market.trades': '笔数',
      'market.links': '交易方式',
      'market.history': '{code} 价格走势',
      'market.chart_title': '每日收盘价与成交量',
      'market.reference': '参考价',
      'market.no_instruments': '尚未设立交易品种。',
      'market.state.open': '交易中',
      'market.state.call': '集合竞价',
      'market.state.break': '午间休市',
      'market.state.closed': '已收市',
      'market.hours': '交易时段：{hours}（北京时间，工作日）',
      'market.always_open': '全天开放（演示）',
      'book.lead': '买卖盘与逐笔成交实时更新。点击价格可填入委托单。',
      'book.live': '实时',
      'book.connecting': '连接中',
      'book.offline': '已断开，正在重连',
      'book.last': '最新价',
      'book.high_low': '最高 / 最低',
      'book.band': '涨跌幅限制',
      'book.no_band': '无限制',
      'book.depth_title': '买卖盘',
      'book.level': '档位',
      'book.sell_level': '卖{n}',
      'book.buy_level': '买{n}',
      'book.price': '价格',
      'book.quantity': '数量',
      'book.orders': '笔数',
      'book.depth': '深度',
      'book.use_price': '以此价格下单',
      'book.empty': '暂无挂单',
      'book.entry_title': '下单',
      'book.my_open': '我在本品种的有效委托',
      'book.traders_only': '仅经运营中心准入的交易商可以下单。',
      'book.login_to_trade': '登录后即可下单。',
      'book.trades_title': '最新成交',
      'book.time': '时间',
      'book.aggressor': '主动方',
      'book.call': '集合竞价',
      'book.no_trades': '今日暂无成交',
      'book.chart_title': '逐笔成交走势',
      'orders.title': '我的委托与成交',
      'orders.lead': '各交易方式的委托（竞价、挂牌、点选、协议、拍卖与出价）及成交明细。有效的委托可撤单；竞价委托还可改价或改量。',
      'orders.orders': '委托',
      'orders.fills': '成交',
      'orders.trade': '成交编号',
      'orders.order': '委托编号',
      'orders.amount': '成交金额',
      'orders.fee': '手续费',
      'orders.no_fills': '暂无成交',
      'cash.title': '资金与持仓',
      'cash.lead': '交易资金（元）与持有的核证减排量（吨）。冻结部分用于有效委托或待执行的注销。',
      'cash.available': '可用资金',
      'cash.held': '冻结资金',
      'cash.total': '资金合计',
      'cash.credits_available': '可用减排量',
      'cash.credits': '减排量持仓',
      'cash.account': '账户',
      'cash.batch': '签发批次',
      'cash.bucket.available': '可用',
      'cash.bucket.held': '冻结',
      'cash.bucket.retired': '已注销',
      'cash.bucket.revoked': '已收回',
      'cash.no_credits': '暂无减排量',
      'cash.holdings_hint': '按序列号区段查看：',
      'cash.holdings_link': '我的持有（序列号）',
      'cash.movements': '出入金记录',
      'cash.kind': '类型',
      'cash.kind.deposit': '入金',
      'cash.kind.withdrawal': '出金',
      'cash.amount': '金额',
      'cash.reference': '银行回单号',
      'cash.no_movements': '暂无出入金',
      'cash.deposit_hint': '入金与出金由运营管理中心依据银行回单办理。',
      'listings.title': '挂牌点选',
      'listings.lead': '卖方（或买方）挂出价格与数量，对方按挂牌价点选成交；挂牌的减排量或资金在成交或撤牌前冻结。',
      'listings.side': '挂牌方向',
      'listings.side.sell': '卖出挂牌',
      'listings.side.buy': '买入挂牌',
      'listings.board_sell': '卖出挂牌（可点选买入）',
      'listings.board_buy': '买入挂牌（可点选卖出）',
      'listings.available': '可点选数量',
      'listings.min_pick': '最小点选量',
      'listings.min_pick_t': '最小点选量（吨）',
      'listings.any_batch': '任意批次',
      'listings.expires': '到期',
      'listings.no_expiry': '撤牌前有效',
      'listings.expires_help': '可留空：撤牌前一直有效。',
      'listings.allowed': '指定摘牌方',
      'listings.allowed_help': '不选则任何交易方均可摘牌；按住 Ctrl（Mac 为 ⌘）可多选。',
      'listings.restricted': '对象',
      'listings.named_only': '指定对象',
      'listings.anyone': '不限',
      'listings.pick': '点选',
      'listings.pick_quantity': '点选挂牌 #{id} 的数量（吨）',
      'listings.buy': '买入',
      'listings.sell': '卖出',
      'listings.picked': '点选成交 {quantity}，价格 {price}（{status}）。',
      'listings.empty': '暂无挂牌',
      'listings.post_title': '发布挂牌',
      'listings.post_help': '卖出挂牌冻结所挂数量的减排量；买入挂牌冻结资金与手续费。',
      'listings.post': '发布挂牌',
      'listings.posted': '挂牌 #{id} 已发布：{quantity}，{price}/吨。',
      'proposals.title': '协议转让',
      'proposals.lead': '与指定的交易对手协商价格与数量：一方发起，对方在到期前接受即成交，也可拒绝；发起方可在接受前撤回。价格须在涨跌幅限制内。',
      'proposals.inbox': '收到与发出的协议',
      'proposals.direction': '方向',
      'proposals.sent': '我发出',
      'proposals.received': '我收到',
      'proposals.from': '发起方',
      'proposals.to': '对手方',
      'proposals.me': '本单位',
      'proposals.participant': '参与方 #{id}',
      'proposals.initiator_side': '发起方买卖',
      'proposals.accept': '接受',
      'proposals.reject': '拒绝',
      'proposals.withdraw': '撤回',
      'proposals.accepted': '已接受协议 #{id}：{status}。',
      'proposals.rejected': '已拒绝协议 #{id}。',
      'proposals.withdrawn': '已撤回协议 #{id}。',
      'proposals.empty': '暂无协议转让',
      'proposals.new': '发起协议转让',
      'proposals.new_help': '发起时即冻结本方的减排量（卖出）或资金与手续费（买入）。',
      'proposals.counterparty': '交易对手',
      'proposals.choose': '请选择',
      'proposals.my_side': '本方买卖',
      'proposals.send': '发送协议',
      'proposals.sent_notice': '协议 #{id} 已发送给 {to}。',
      'auctions.title': '单向竞价',
      'auctions.lead': '一方挂出一批减排量（或求购）并设保留价，其他交易商在截止前密封出价；截止后按价格优先、时间优先分配。出价在揭晓前不公开。',
      'auctions.list': '拍卖',
      'auctions.offer': '类型',
      'auctions.offer.sell': '出售拍卖',
      'auctions.offer.buy': '求购拍卖',
      'auctions.lot': '数量',
      'auctions.lot_t': '数量（吨）',
      'auctions.reserve': '保留价',
      'auctions.reserve_yuan': '保留价（元/吨）',
      'auctions.reserve_help': '出售拍卖为最低可接受价，求购拍卖为最高价。',
      'auctions.pricing': '定价方式',
      'auctions.pricing.PAY_AS_BID': '按出价成交',
      'auctions.pricing.UNIFORM': '统一价格',
      'auctions.ends': '截止',
      'auctions.end': '截止时间（北京时间）',
      'auctions.result': '结果',
      'auctions.result_text': '分配 {allocated}，{trades} 笔，价格 {prices}',
      'auctions.sealed': '密封出价中',
      'auctions.bid': '出价',
      'auctions.bid_price': '拍卖 #{id} 的出价（元/吨）',
      'auctions.bid_quantity': '拍卖 #{id} 的出价数量（吨）',
      'auctions.place_bid': '出价',
      'auctions.bid_invalid': '请填写价格（最多两位小数）与数量',
      'auctions.bid_placed': '出价 #{id} 已提交至拍卖 #{auction}，资金已冻结至揭晓。',
      'auctions.empty': '暂无拍卖',
      'auctions.open_title': '发起拍卖',
      'auctions.open': '发起拍卖',
      'auctions.opened': '拍卖 #{id} 已发起。',
      'retire.title': '注销：大型活动碳中和',
      'retire.lead': '为会议、赛事等大型活动的碳中和注销碳普惠减排量（《办法》第二十一条）。申请后减排量即被冻结，由运营管理中心在平台执行注销并出具证书。',
      'retire.form_title': '注销申请',
      'retire.form_help': '按序列号从小到大注销；可指定账户或签发批次。',
      'retire.event_name': '活动名称',
      'retire.event_placeholder': '如 2026 嘉兴国际会展周',
      'retire.event_place': '活动地点',
      'retire.event_start': '开始日期',
      'retire.event_end': '结束日期',
      'retire.end_before_start': '结束日期不能早于开始日期',
      'retire.emissions': '活动排放量（tCO2e）',
      'retire.emissions_help': '活动核算的温室气体排放量，可含小数。',
      'retire.quantity': '注销数量（吨）',
      'retire.quantity_help': '整吨；通常不少于活动排放量。',
      'retire.beneficiary': '受益方',
      'retire.lowest_first': '不指定（序列号从小到大）',
      'retire.submit': '提交注销申请',
      'retire.requested_notice': '注销申请 {code} 已提交，{quantity} 已冻结，待运营管理中心执行。',
      'retire.done': '注销 {code} 已完成：{quantity}。',
      'retire.mine': '我的注销',
      'retire.code': '注销编号',
      'retire.purpose': '用途',
      'retire.purpose.event_neutrality': '大型活动碳中和',
      'retire.purpose.pilot_unit': '低碳试点单位中和',
      'retire.purpose.ecological_restoration': '替代性修复',
      'retire.purpose.voluntary': '自愿注销',
      'retire.serials': '序列号',
      'retire.requested': '申请时间',
      'retire.executed': '执行时间',
      'retire.certificate': '证书',
      'retire.verify': '查验证书',
      'retire.pdf': '下载 PDF',
      'retire.withdraw': '撤回申请',
      'retire.withdraw_reason': '申请人撤回',
      'retire.withdrawn': '注销申请 {code} 已撤回，减排量已解冻。',
      'retire.status.requested': '待执行',
      'retire.status.executed': '已注销',
      'retire.status.cancelled': '已撤回',
      'retire.empty': '暂无注销',
    },
    en: {
      ...chartMessages.en,
      'nav.market': 'Market summary',
      'nav.book': 'Order book',
      'nav.listings': 'Listings',
      'nav.proposals': 'Negotiated transfers',
      'nav.auctions': 'Auctions',
      'nav.my_orders': 'My orders and fills',
      'nav.cash': 'Cash and credits',
      'nav.retire': 'Retire for an event',
      'nav.market_desc': 'Daily trading summary and price history',
      'nav.book_desc': 'Live depth, trades and order entry',
      'nav.listings_desc': 'Browse listings and pick',
      'nav.proposals_desc': 'Propose to, or answer, a named counterparty',
      'nav.auctions_desc': 'Auctions and sealed bids',
      'nav.my_orders_desc': 'Orders, cancels and fills',
      'nav.cash_desc': 'Available and held cash, credits held',
      'nav.retire_desc': 'Retire credits for an event and get the certificate',
      'trade.instrument': 'Instrument',
      'trade.side': 'Side',
      'trade.side.buy': 'Buy',
      'trade.side.sell': 'Sell',
      'trade.order_type': 'Order type',
      'trade.type.LIMIT': 'Limit',
      'trade.type.MARKET': 'Market',
      'trade.price': 'Price',
      'trade.price_yuan': 'Price (¥ per tonne)',
      'trade.price_placeholder': 'e.g. 60.00',
      'trade.price_help': 'A market order needs no price.',
      'trade.price_needed': 'A limit order needs a price',
      'trade.quantity': 'Quantity',
      'trade.quantity_t': 'Quantity (t)',
      'trade.tif': 'Time in force',
      'trade.tif.GTC': 'Good till cancelled',
      'trade.tif.DAY': 'Day',
      'trade.tif.IOC': 'Immediate or cancel',
      'trade.tif.FOK': 'Fill or kill',
      'trade.tif.GTD': 'Good till date',
      'trade.expires': 'Expires (Beijing time)',
      'trade.expires_help': 'Only for good-till-date.',
      'trade.expires_needed': 'Give the expiry',
      'trade.place': 'Place order',
      'trade.order_placed': 'Order #{id} accepted: {status}, filled {filled}, open {remaining}.',
      'trade.id': 'No.',
      'trade.kind': 'Mode',
      'trade.kind.order': 'Book order',
      'trade.kind.listing': 'Listing',
      'trade.kind.pick': 'Pick',
      'trade.kind.proposal': 'Proposal',
      'trade.kind.acceptance': 'Acceptance',
      'trade.kind.auction': 'Auction',
      'trade.kind.bid': 'Bid',
      'trade.filled': 'Filled',
      'trade.remaining': 'Open',
      'trade.open_of': 'Open / ordered',
      'trade.status': 'Status',
      'trade.status.open': 'Open',
      'trade.status.filled': 'Filled',
      'trade.status.cancelled': 'Cancelled',
      'trade.status.expired': 'Expired',
      'trade.status.rejected': 'Rejected',
      'trade.time': 'Time',
      'trade.actions': 'Actions',
      'trade.cancel': 'Cancel',
      'trade.amend': 'Amend',
      'trade.amend_title': 'Amend order #{id}',
      'trade.amend_open_t': 'Open quantity (t)',
      'trade.amend_help': 'Only cutting the quantity keeps time priority; a new price or a larger quantity goes to the back of the new level.',
      'trade.amend_submit': 'Amend',
      'trade.amend_nothing': 'Neither price nor quantity changed.',
      'trade.amended': '#{id} amended: {open} open at {price}.',
      'trade.cancelled': '#{id} cancelled; its held cash or credits are released.',
      'trade.no_orders': 'No orders',
      'trade.all': 'All',
      'instrument.status.active': 'Trading',
      'instrument.status.halted': 'Halted',
      'market.title': 'Market summary',
      'market.lead': 'Each trading day\'s summary and the price history (published under Art. 24). Prices in ¥ per tonne, quantities in tCO2e.',
      'market.day': 'Trading day',
      'market.show_day': 'Show day',
      'market.trading_day': 'Trading day',
      'market.volume': 'Volume',
      'market.turnover': 'Turnover',
      'market.instruments': 'Instruments',
      'market.status': 'Status',
      'market.open': 'Open',
      'market.high': 'High',
      'market.low': 'Low',
      'market.close': 'Close',
      'market.trades': 'Trades',
      'market.links': 'Trade',
      'market.history': '{code} price history',
      'market.chart_title': 'Daily close and volume',
      'market.reference': 'Reference price',
      'market.no_instruments': 'No instrument is defined yet.',
      'market.state.open': 'Open',
      'market.state.call': 'Opening call',
      'market.state.break': 'Midday break',
      'market.state.closed': 'Closed',
      'market.hours': 'Trading periods: {hours} (Beijing time, working days)',
      'market.always_open': 'always open (demo)',
      'book.lead': 'Depth and trades update live. Click a price to put it in the order form.',
      'book.live': 'Live',
      'book.connecting': 'Connecting',
      'book.offline': 'Disconnected, reconnecting',
      'book.last': 'Last',
      'book.high_low': 'High / low',
      'book.band': 'Price band',
      'book.no_band': 'None',
      'book.depth_title': 'Depth',
      'book.level': 'Level',
      'book.sell_level': 'Ask {n}',
      'book.buy_level': 'Bid {n}',
      'book.price': 'Price',
      'book.quantity': 'Quantity',
      'book.orders': 'Orders',
      'book.depth': 'Depth',
      'book.use_price': 'Use this price',
      'book.empty': 'The book is empty',
      'book.entry_title': 'Order entry',
      'book.my_open': 'My open orders in this instrument',
      'book.traders_only': 'Only traders admitted by the operations center may place orders.',
      'book.login_to_trade': 'Log in to trade.',
      'book.trades_title': 'Recent trades',
      'book.time': 'Time',
      'book.aggressor': 'Aggressor',
      'book.call': 'Call auction',
      'book.no_trades': 'No trades today',
      'book.chart_title': 'Trades',
      'orders.title': 'My orders and fills',
      'orders.lead': 'Your orders in every trade mode (book, listing, pick, proposal, auction, bid) and your fills. Open ones can be cancelled; open book orders can also be amended (price or quantity).',
      'orders.orders': 'Orders',
      'orders.fills': 'Fills',
      'orders.trade': 'Trade',
      'orders.order': 'Order',
      'orders.amount': 'Amount',
      'orders.fee': 'Fee',
      'orders.no_fills': 'No fills',
      'cash.title': 'Cash and credits',
      'cash.lead': 'Your trading cash (¥) and the credits you hold (t). Held amounts back open orders or retirements awaiting execution.',
      'cash.available': 'Available cash',
      'cash.held': 'Held cash',
      'cash.total': 'Total cash',
      'cash.credits_available': 'Available credits',
      'cash.credits': 'Credits',
      'cash.account': 'Account',
      'cash.batch': 'Batch',
      'cash.bucket.available': 'Available',
      'cash.bucket.held': 'Held',
      'cash.bucket.retired': 'Retired',
      'cash.bucket.revoked': 'Revoked',
      'cash.no_credits': 'No credits',
      'cash.holdings_hint': 'By serial block:',
      'cash.holdings_link': 'my holdings (serials)',
      'cash.movements': 'Deposits and withdrawals',
      'cash.kind': 'Kind',
      'cash.kind.deposit': 'Deposit',
      'cash.kind.withdrawal': 'Withdrawal',
      'cash.amount': 'Amount',
      'cash.reference': 'Bank reference',
      'cash.no_movements': 'No deposits or withdrawals',
      'cash.deposit_hint': 'The operations center records deposits and withdrawals from bank confirmations.',
      'listings.title': 'Listing-pick',
      'listings.lead': 'A seller (or buyer) lists a price and quantity; others pick at that price. Listed credits or cash are held until picked or withdrawn.',
      'listings.side': 'Listing side',
      'listings.side.sell': 'Sell listings',
      'listings.side.buy': 'Buy listings',
      'listings.board_sell': 'Sell listings (pick to buy)',
      'listings.board_buy': 'Buy listings (pick to sell)',
      'listings.available': 'Available',
      'listings.min_pick': 'Minimum pick',
      'listings.min_pick_t': 'Minimum pick (t)',
      'listings.any_batch': 'Any batch',
      'listings.expires': 'Expires',
      'listings.no_expiry': 'Until withdrawn',
      'listings.expires_help': 'Leave empty: valid until withdrawn.',
      'listings.allowed': 'Only these may pick',
      'listings.allowed_help': 'Choose none to open the listing to every trader; Ctrl (⌘ on a Mac) to choose several.',
      'listings.restricted': 'Open to',
      'listings.named_only': 'Named parties',
      'listings.anyone': 'Anyone',
      'listings.pick': 'Pick',
      'listings.pick_quantity': 'Quantity to pick from listing #{id} (t)',
      'listings.buy': 'Buy',
      'listings.sell': 'Sell',
      'listings.picked': 'Picked {quantity} at {price} ({status}).',
      'listings.empty': 'No listings',
      'listings.post_title': 'Post a listing',
      'listings.post_help': 'A sell listing holds the credits listed; a buy listing holds the cash and fee.',
      'listings.post': 'Post listing',
      'listings.posted': 'Listing #{id} posted: {quantity} at {price} per tonne.',
      'proposals.title': 'Negotiated transfers',
      'proposals.lead': 'Agree price and quantity with a named counterparty: one side proposes, the other accepts before it expires (and the trade settles) or rejects; the proposer may withdraw before. Prices stay within the band.',
      'proposals.inbox': 'Sent and received',
      'proposals.direction': 'Direction',
      'proposals.sent': 'Sent',
      'proposals.received': 'Received',
      'proposals.from': 'From',
      'proposals.to': 'To',
      'proposals.me': 'Us',
      'proposals.participant': 'Participant #{id}',
      'proposals.initiator_side': 'Proposer',
      'proposals.accept': 'Accept',
      'proposals.reject': 'Reject',
      'proposals.withdraw': 'Withdraw',
      'proposals.accepted': 'Proposal #{id} accepted: {status}.',
      'proposals.rejected': 'Proposal #{id} rejected.',
      'proposals.withdrawn': 'Proposal #{id} withdrawn.',
      'proposals.empty': 'No negotiated transfers',
      'proposals.new': 'Propose a negotiated transfer',
      'proposals.new_help': 'Proposing holds your credits (selling) or cash and fee (buying).',
      'proposals.counterparty': 'Counterparty',
      'proposals.choose': 'Choose',
      'proposals.my_side': 'We',
      'proposals.send': 'Send proposal',
      'proposals.sent_notice': 'Proposal #{id} sent to {to}.',
      'auctions.title': 'One-sided auctions',
      'auctions.lead': 'One side offers a lot (or asks for one) with a reserve price; traders bid sealed until the end, then the lot is allocated by price, then time. Bids stay secret.',
      'auctions.list': 'Auctions',
      'auctions.offer': 'Kind',
      'auctions.offer.sell': 'Selling',
      'auctions.offer.buy': 'Buying',
      'auctions.lot': 'Lot',
      'auctions.lot_t': 'Lot (t)',
      'auctions.reserve': 'Reserve',
      'auctions.reserve_yuan': 'Reserve (¥ per tonne)',
      'auctions.reserve_help': 'The lowest acceptable bid when selling, the highest when buying.',
      'auctions.pricing': 'Pricing',
      'auctions.pricing.PAY_AS_BID': 'Pay as bid',
      'auctions.pricing.UNIFORM': 'Uniform price',
      'auctions.ends': 'Ends',
      'auctions.end': 'End (Beijing time)',
      'auctions.result': 'Result',
      'auctions.result_text': '{allocated} in {trades} trades at {prices}',
      'auctions.sealed': 'Bids sealed',
      'auctions.bid': 'Bid',
      'auctions.bid_price': 'Bid price for auction #{id} (¥/t)',
      'auctions.bid_quantity': 'Bid quantity for auction #{id} (t)',
      'auctions.place_bid': 'Bid',
      'auctions.bid_invalid': 'Give a price (up to two decimals) and a quantity',
      'auctions.bid_placed': 'Bid #{id} placed in auction #{auction}; its cash is held until the result.',
      'auctions.empty': 'No auctions',
      'auctions.open_title': 'Open an auction',
      'auctions.open': 'Open auction',
      'auctions.opened': 'Auction #{id} opened.',
      'retire.title': 'Retirement for an event\'s neutrality',
      'retire.lead': 'Retire carbon-inclusive credits for the carbon neutrality of a meeting, match or other large event (Art. 21). The credits are held at once; the operations center retires them on the platform and issues the certificate.',
      'retire.form_title': 'Request a retirement',
      'retire.form_help': 'Lowest serial numbers first; you may name an account or a batch.',
      'retire.event_name': 'Event',
      'retire.event_placeholder': 'e.g. Jiaxing International Expo Week 2026',
      'retire.event_place': 'Place',
      'retire.event_start': 'First day',
      'retire.event_end': 'Last day',
      'retire.end_before_start': 'The last day cannot be before the first',
      'retire.emissions': 'Event emissions (tCO2e)',
      'retire.emissions_help': 'The event\'s accounted greenhouse-gas emissions; decimals allowed.',
      'retire.quantity': 'Tonnes to retire',
      'retire.quantity_help': 'Whole tonnes; usually at least the event\'s emissions.',
      'retire.beneficiary': 'Beneficiary',
      'retire.lowest_first': 'Any (lowest serials first)',
      'retire.submit': 'Request retirement',
      'retire.requested_notice': 'Retirement {code} requested: {quantity} held until the operations center executes it.',
      'retire.done': 'Retirement {code} done: {quantity}.',
      'retire.mine': 'My retirements',
      'retire.code': 'Retirement',
      'retire.purpose': 'Purpose',
      'retire.purpose.event_neutrality': 'Event neutrality',
      'retire.purpose.pilot_unit': 'Pilot unit neutrality',
      'retire.purpose.ecological_restoration': 'Ecological restoration',
      'retire.purpose.voluntary': 'Voluntary',
      'retire.serials': 'Serial numbers',
      'retire.requested': 'Requested',
      'retire.executed': 'Executed',
      'retire.certificate': 'Certificate',
      'retire.verify': 'Verify',
      'retire.pdf': 'PDF',
      'retire.withdraw': 'Withdraw',
      'retire.withdraw_reason': 'Withdrawn by the holder',
      'retire.withdrawn': 'Retirement request {code} withdrawn; the credits are released.',
      'retire.status.requested': 'Awaiting execution',
      'retire.status.executed': 'Retired',
      'retire.status.cancelled': 'Withdrawn',
      'retire.empty': 'No retirements',
    },
  },
  nav: [
    { hash: '#/market', label: 'nav.market', description: 'nav.market_desc', roles: null },
    { hash: '#/book', label: 'nav.book', description: 'nav.book_desc', roles: ['trader'] },
    { hash: '#/listings', label: 'nav.listings', description: 'nav.listings_desc', roles: ['trader'] },
    { hash: '#/proposals', label: 'nav.proposals', description: 'nav.proposals_desc', roles: ['trader'] },
    { hash: '#/auctions', label: 'nav.auctions', description: 'nav.auctions_desc', roles: ['trader'] },
    { hash: '#/my-orders', label: 'nav.my_orders', description: 'nav.my_orders_desc', roles: ['trader'] },
    { hash: '#/cash', label: 'nav.cash', description: 'nav.cash_desc', roles: ['trader'] },
    { hash: '#/retire', label: 'nav.retire', description: 'nav.retire_desc', roles: ['trader', 'owner'] },
  ],
  routes: {
    market: marketPage,
    book: bookPage,
    listings: listingsPage,
    proposals: proposalsPage,
    auctions: auctionsPage,
    'my-orders': myOrdersPage,
    cash: cashPage,
    retire: retirePage,
  },
};
