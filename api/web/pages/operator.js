// The operations center's desk (运营管理中心): trading admission and suspension (Art. 19), deposits and
// withdrawals from bank confirmations, retirements to execute (Art. 21), instruments, trading periods, and the
// ledger and audit checks. Tabs are route arguments: #/operator/<tab>.
import {
  api, apiAll, badge, block, card, fmtDateTime, fmtNumber, fmtTonnes, fmtYuan, form, h, heading, loading, mount, pick,
  refuseUnlessRole, showNotice, showProblem, stat, table, t,
} from '../lib.js';
import { PRICE_PATTERN, certificateLinks, instrumentBadge, yuanToFen } from './trading.js';

const TABS = ['admission', 'cash', 'retirements', 'instruments', 'sessions', 'ledger'];


function participantOptions(participants, { admittedOnly = false } = {}) {
  return [{ value: '', label: 'operator.choose' }, ...participants
    .filter((p) => !admittedOnly || p.trading_status === 'admitted')
    .map((p) => ({ value: String(p.id), label: `${p.name} (#${p.id})` }))];
}

// ---------------------------------------------------------------- tabs

async function admissionTab(out) {
  const participants = await apiAll('/market/participants');
  const list = block(async () => table([
    { label: 'operator.participant', render: (p) => [h('strong', {}, p.name), h('div', { class: 'muted small' }, `#${p.id}`)] },
    { label: 'operator.kind', render: (p) => t(`operator.kind.${p.kind}`) },
    { label: 'operator.registry_status', render: (p) => badge(p.status, `operator.status.${p.status}`) },
    { label: 'operator.trading_status', render: (p) => badge(p.trading_status, `operator.trading.${p.trading_status}`) },
  ], await apiAll('/market/participants')));
  const change = form([
    { name: 'participant', label: 'operator.participant', type: 'select', required: true, value: '',
      options: participantOptions(participants) },
    { name: 'trading_status', label: 'operator.trading_status', type: 'select', value: 'admitted',
      options: ['admitted', 'suspended', 'not_admitted'].map((s) => ({ value: s, label: `operator.trading.${s}` })) },
    { name: 'reason', label: 'operator.reason', required: true, maxlength: 500, help: 'operator.reason_help' },
  ], async (values) => {
    const answer = await api('POST', `/market/participants/${values.participant}/admission`,
      { body: { trading_status: values.trading_status, reason: values.reason } });
    showNotice(out, t('operator.admission_done', { id: answer.participant_id,
      status: t(`operator.trading.${answer.trading_status}`) }));
    list.reload();
  }, { submit: 'operator.apply', class: 'wide' });
  return [card('operator.admission_form', h('p', { class: 'muted small' }, t('operator.admission_help')), change),
    card('operator.participants', list)];
}

async function cashTab(out) {
  const participants = await apiAll('/market/participants');
  const record = form([
    { name: 'kind', label: 'operator.cash_kind', type: 'select', value: 'deposits',
      options: [{ value: 'deposits', label: 'operator.deposit' }, { value: 'withdrawals', label: 'operator.withdrawal' }] },
    { name: 'participant', label: 'operator.participant', type: 'select', required: true, value: '',
      options: participantOptions(participants, { admittedOnly: true }) },
    { name: 'amount', label: 'operator.amount_yuan', required: true, pattern: PRICE_PATTERN.replace('{1,7}', '{1,13}'),
      placeholder: 'operator.amount_placeholder' },
    { name: 'bank_reference', label: 'operator.bank_reference', required: true, pattern: '[A-Za-z0-9\\-_/]{4,64}',
      help: 'operator.bank_reference_help' },
  ], async (values) => {
    const answer = await api('POST', `/cash/${values.kind}`, { body: { participant_id: Number(values.participant),
      amount_fen: yuanToFen(values.amount), bank_reference: values.bank_reference } });
    showNotice(out, t('operator.cash_done', { kind: t(`operator.${answer.kind}`), amount: fmtYuan(answer.amount_fen),
      id: answer.participant_id, available: fmtYuan(answer.balances_fen.available), held: fmtYuan(answer.balances_fen.held) }));
  }, { submit: 'operator.record', class: 'wide' });
  return card('operator.cash_form', h('p', { class: 'muted small' }, t('operator.cash_help')), record);
}

async function retirementsTab(out) {
  const pending = block(async (reload) => {
    const page = await api('GET', '/retirements', { query: { status: 'requested', limit: 200 } });
    return table([
      { label: 'retire.code', render: (r) => h('span', { class: 'mono' }, r.code) },
      { label: 'trade.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
      { label: 'retire.beneficiary', render: (r) => r.beneficiary },
      { label: 'retire.purpose', render: (r) => [t(`retire.purpose.${r.purpose}`),
        r.details && r.details.event_name ? h('div', { class: 'muted small' }, r.details.event_name) : null] },
      { label: 'retire.serials', class: 'wrap-anywhere', render: (r) => r.serial_blocks.map((s) => h('div', { class: 'mono small' }, s)) },
      { label: 'retire.requested', render: (r) => fmtDateTime(r.requested_at) },
      { label: 'trade.actions', render: (r) => executeButton(r, reload) },
    ], page.items, { empty: 'operator.no_pending' });
  });
  const done = block(async () => {
    const page = await api('GET', '/retirements', { query: { status: 'executed', limit: 20 } });
    return table([
      { label: 'retire.code', render: (r) => h('span', { class: 'mono' }, r.code) },
      { label: 'trade.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
      { label: 'retire.beneficiary', render: (r) => r.beneficiary },
      { label: 'retire.executed', render: (r) => fmtDateTime(r.executed_at) },
      { label: 'retire.certificate', render: (r) => certificateLinks(r) },
    ], page.items, { empty: 'retire.empty' });
  });

  function executeButton(retirement, reload) {
    const button = h('button', { type: 'button', class: 'btn small primary', 'data-code': retirement.code }, t('operator.execute'));
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const answer = await api('POST', `/retirements/${retirement.id}/execute`);
        showNotice(out, t('operator.executed', { code: answer.code, quantity: fmtTonnes(answer.quantity_t) }));
        reload();
        done.reload();
      } catch (err) {
        showProblem(out, err);
        button.disabled = false;
      }
    });
    return button;
  }

  return [card('operator.pending', h('p', { class: 'muted small' }, t('operator.pending_help')), pending),
    card('operator.recent_retirements', done)];
}

async function instrumentsTab(out) {
  const list = block(async (reload) => table([
    { label: 'trade.instrument', render: (i) => [h('strong', {}, i.code), h('div', { class: 'muted small' }, pick(i, 'name'))] },
    { label: 'operator.vintage', num: true, render: (i) => String(i.vintage) },
    { label: 'market.reference', num: true, render: (i) => fmtYuan(i.settings.reference_price_fen) },
    { label: 'operator.band', num: true, render: (i) => (i.settings.price_band_bp ? `±${i.settings.price_band_bp / 100}%` : '—') },
    { label: 'operator.batches', render: (i) => i.batch_ids.map((b) => `#${b}`).join(' ') },
    { label: 'market.status', render: (i) => instrumentBadge(i.status) },
    { label: 'trade.actions', render: (i) => statusForm(i, reload) },
  ], await api('GET', '/instruments'), { empty: 'market.no_instruments' }));

  function statusForm(instrument, reload) {
    const next = instrument.status === 'active' ? 'halted' : 'active';
    const reason = h('input', { type: 'text', required: true, minlength: 2, maxlength: 500, placeholder: t('operator.reason'),
      'aria-label': t('operator.reason_for', { code: instrument.code }) });
    const submit = h('button', { type: 'submit', class: ['btn small', next === 'halted' ? 'danger' : 'primary'] },
      t(next === 'halted' ? 'operator.halt' : 'operator.resume'));
    return h('form', { class: 'inline-form', onSubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const answer = await api('POST', `/instruments/${encodeURIComponent(instrument.code)}/status`,
          { body: { status: next, reason: reason.value.trim() } });
        showNotice(out, t('operator.instrument_status', { code: answer.code, status: t(`instrument.status.${answer.status}`) }));
        reload();
      } catch (err) {
        showProblem(out, err);
      } finally {
        submit.disabled = false;
      }
    } }, reason, submit);
  }

  const define = form([
    { name: 'code', label: 'operator.code', required: true, pattern: '[A-Z][A-Z0-9\\-]{2,39}', placeholder: 'operator.code_placeholder' },
    { name: 'vintage', label: 'operator.vintage', type: 'number', min: 2020, max: 2100, required: true },
    { name: 'name_zh', label: 'operator.name_zh', required: true, maxlength: 200 },
    { name: 'name_en', label: 'operator.name_en', required: true, maxlength: 200 },
    { name: 'reference', label: 'operator.reference_yuan', pattern: PRICE_PATTERN, help: 'operator.reference_help' },
    { name: 'band', label: 'operator.band_percent', type: 'number', min: 1, max: 100, value: '10' },
  ], async (values) => {
    const settings = { price_band_bp: Number(values.band || 10) * 100 };
    if (values.reference) settings.reference_price_fen = yuanToFen(values.reference);
    const made = await api('POST', '/instruments', { body: { code: values.code, name_zh: values.name_zh,
      name_en: values.name_en, vintage: Number(values.vintage), settings } });
    showNotice(out, t('operator.instrument_defined', { code: made.code, batches: made.batch_ids.length }));
    list.reload();
  }, { submit: 'operator.define', class: 'wide' });
  return [card('operator.instruments', list), card('operator.define_title', h('p', { class: 'muted small' }, t('operator.define_help')), define)];
}

async function sessionsTab(out) {
  const [calendar, instruments] = await Promise.all([api('GET', '/market/calendar'), api('GET', '/instruments')]);
  const books = await Promise.all(instruments.map(async (i) => ({ instrument: i,
    depth: await api('GET', `/market/${encodeURIComponent(i.code)}/depth`, { query: { levels: 1 } }) })));
  return [
    h('div', { class: 'stats' },
      stat('operator.market_now', t(`market.state.${calendar.state}`)),
      stat('operator.opening_call', calendar.opening_call || '—'),
      stat('operator.sessions', calendar.always_open ? t('market.always_open')
        : calendar.sessions.map(([from, to]) => `${from}–${to}`).join(t('common.list_sep')))),
    card('operator.books', table([
      { label: 'trade.instrument', render: (b) => h('a', { href: `#/book/${encodeURIComponent(b.instrument.code)}` }, b.instrument.code) },
      { label: 'market.status', render: (b) => instrumentBadge(b.instrument.status) },
      { label: 'market.trading_day', render: (b) => b.depth.bar.trading_day || '—' },
      { label: 'market.reference', num: true, render: (b) => fmtYuan(b.depth.reference_price_fen) },
      { label: 'book.band', num: true, render: (b) => (b.depth.price_band_fen ? b.depth.price_band_fen.map(fmtYuan).join(' – ') : '—') },
      { label: 'operator.best_bid', num: true, render: (b) => fmtYuan(b.depth.top.bid_price_fen) },
      { label: 'operator.best_ask', num: true, render: (b) => fmtYuan(b.depth.top.ask_price_fen) },
      { label: 'market.volume', num: true, render: (b) => fmtTonnes(b.depth.bar.volume_t) },
    ], books, { empty: 'market.no_instruments' }), h('p', { class: 'muted small' }, t('operator.sessions_help'))),
    closuresCard(out),
  ];
}

/** The closures of the coming year: the State Council notice's holidays and those recorded here, which a day
 * ahead at the latest may be withdrawn; and the form to record one (a new year's notice, or a closure
 * announced ahead). */
function closuresCard(out) {
  const list = block(async (reload) => {
    const calendar = await api('GET', '/market/calendar');
    return [
      h('p', { class: 'muted small' }, t('operator.closure_years', { years: calendar.years.join(t('common.list_sep')) })),
      table([
        { label: 'operator.closure_day', render: (c) => h('span', { class: 'mono' }, c.date) },
        { label: 'operator.closure_name', render: (c) => pick(c, 'name') },
        { label: 'operator.closure_source', render: (c) => h('span', { class: 'small' }, c.source) },
        { label: 'trade.actions', render: (c) => (c.recorded && c.date > calendar.today ? h('button', {
          type: 'button', class: 'btn small', 'data-withdraw': c.date,
          onClick: async () => {
            try {
              await api('DELETE', `/market/closures/${c.date}`);
              showNotice(out, t('operator.closure_withdrawn', { day: c.date }));
              reload();
            } catch (err) {
              showProblem(out, err);
            }
          } }, t('operator.closure_withdraw')) : h('span', { class: 'muted small' }, t(c.recorded ? 'operator.closure_recorded' : 'operator.closure_notice'))) },
      ], calendar.closures, { empty: 'operator.no_closures' })];
  });
  const record = form([
    { name: 'day', label: 'operator.closure_day', type: 'date', required: true },
    { name: 'name_zh', label: 'operator.name_zh', required: true, maxlength: 100, placeholder: 'operator.closure_name_placeholder' },
    { name: 'name_en', label: 'operator.name_en', required: true, maxlength: 100 },
    { name: 'source', label: 'operator.closure_source', required: true, maxlength: 300, help: 'operator.closure_source_help' },
  ], async (values, el) => {
    const made = await api('POST', '/market/closures', { body: values });
    showNotice(out, t('operator.closure_recorded_note', { day: made.date }));
    el.reset();
    list.reload();
  }, { submit: 'operator.closure_record', class: 'wide' });
  return card('operator.closures', list, h('h3', {}, t('operator.closure_record_title')), record);
}

async function ledgerTab() {
  const [ledger, audit] = await Promise.all([api('GET', '/ledger/check'), api('GET', '/audit/verify')]);
  return [
    h('div', { class: 'stats' },
      stat('operator.ledger', h('span', { class: 'ledger-result' }, badge(ledger.ok ? 'executed' : 'rejected', ledger.ok ? 'operator.ok' : 'operator.broken'))),
      stat('operator.entries', fmtNumber(ledger.entries_checked)),
      stat('operator.batches_checked', fmtNumber(ledger.batches_checked)),
      stat('operator.audit', badge(audit.ok ? 'executed' : 'rejected', audit.ok ? 'operator.ok' : 'operator.broken'))),
    ledger.problems.length ? h('div', { class: 'problem' }, h('strong', {}, t('operator.problems')),
      h('ul', {}, ledger.problems.map((p) => h('li', {}, p)))) : null,
    card('operator.per_batch', table(batchColumns(ledger.batches), ledger.batches), h('p', { class: 'muted small' }, t('operator.ledger_help'))),
  ];
}

function batchColumns(batches) {
  // The check names its own figures (batch, issued_t, available_t, …): show each, in its order.
  const keys = batches.length ? Object.keys(batches[0]) : ['batch', 'issued_t'];
  return keys.map((key) => ({ label: `operator.ledger.${key}`, num: key !== 'batch',
    render: (row) => (typeof row[key] === 'number' ? fmtNumber(row[key]) : String(row[key])) }));
}

const RENDER = { admission: admissionTab, cash: cashTab, retirements: retirementsTab, instruments: instrumentsTab,
  sessions: sessionsTab, ledger: ledgerTab };

async function operatorPage(view, args) {
  if (refuseUnlessRole(view, ['operator'])) return;
  const tab = TABS.includes(args[0]) ? args[0] : 'retirements';
  const out = h('div');
  const body = h('div', {}, loading());
  mount(view,
    heading('operator.title', 'operator.lead'),
    h('nav', { class: 'toolbar tabs', 'aria-label': t('operator.sections') }, TABS.map((name) => h('a', {
      href: `#/operator/${name}`, class: ['btn small', name === tab && 'primary'],
      'aria-current': name === tab ? 'page' : null }, t(`operator.tab.${name}`)))),
    out, body);
  mount(body, await RENDER[tab](out));
}

export default {
  messages: {
    zh: {
      'nav.operator': '运营管理',
      'nav.operator_desc': '交易准入、出入金、注销执行、交易品种与账簿核对',
      'operator.title': '运营管理中心',
      'operator.lead': '交易商准入与暂停、依银行回单办理出入金、执行注销、管理交易品种与交易时段、核对账簿与审计链。',
      'operator.sections': '运营管理栏目',
      'operator.tab.admission': '交易准入',
      'operator.tab.cash': '出入金',
      'operator.tab.retirements': '待执行注销',
      'operator.tab.instruments': '交易品种',
      'operator.tab.sessions': '交易时段',
      'operator.tab.ledger': '账簿核对',
      'operator.choose': '请选择',
      'operator.participant': '参与方',
      'operator.kind': '类型',
      'operator.kind.enterprise': '企业',
      'operator.kind.institution': '事业单位',
      'operator.kind.agency': '机关',
      'operator.kind.association': '社会团体',
      'operator.kind.individual': '个人',
      'operator.registry_status': '登记状态',
      'operator.status.active': '正常',
      'operator.status.suspended': '暂停',
      'operator.status.disqualified': '取消资格',
      'operator.trading_status': '交易资格',
      'operator.trading.admitted': '已准入',
      'operator.trading.suspended': '已暂停',
      'operator.trading.not_admitted': '未准入',
      'operator.reason': '理由',
      'operator.reason_for': '{code} 的理由',
      'operator.reason_help': '记入审计链。',
      'operator.apply': '确认',
      'operator.admission_form': '准入或暂停交易',
      'operator.admission_help': '依《办法》第十九条，交易商经运营管理中心准入后方可交易；暂停后不能下新单。',
      'operator.admission_done': '参与方 #{id} 的交易资格现为：{status}。',
      'operator.participants': '参与方',
      'operator.cash_form': '登记出入金',
      'operator.cash_help': '依据银行回单登记；同一回单号只能入账一次。出金不能超过可用资金。',
      'operator.cash_kind': '类型',
      'operator.deposit': '入金',
      'operator.withdrawal': '出金',
      'operator.amount_yuan': '金额（元）',
      'operator.amount_placeholder': '如 100000.00',
      'operator.bank_reference': '银行回单号',
      'operator.bank_reference_help': '4–64 位字母、数字或 - _ /。',
      'operator.record': '登记',
      'operator.cash_done': '已登记{kind} {amount}（参与方 #{id}）；可用 {available}，冻结 {held}。',
      'operator.pending': '待执行的注销申请',
      'operator.pending_help': '申请注销的减排量已冻结；执行后序列号永久注销，公众可查，并出具证书。',
      'operator.no_pending': '暂无待执行的注销',
      'operator.execute': '执行注销',
      'operator.executed': '注销 {code} 已执行：{quantity}。',
      'operator.recent_retirements': '最近完成的注销',
      'operator.instruments': '交易品种',
      'operator.vintage': '年度',
      'operator.band': '涨跌幅',
      'operator.batches': '对应批次',
      'operator.halt': '暂停交易',
      'operator.resume': '恢复交易',
      'operator.instrument_status': '{code}：{status}。',
      'operator.define_title': '设立交易品种',
      'operator.define_help': '一个年度（可限定方法学领域）的减排量为一个品种；参考价用于涨跌幅限制。',
      'operator.code': '代码',
      'operator.code_placeholder': '如 JXCI-2026',
      'operator.name_zh': '中文名称',
      'operator.name_en': '英文名称',
      'operator.reference_yuan': '参考价（元/吨）',
      'operator.reference_help': '可留空：首笔成交前不设涨跌幅限制。',
      'operator.band_percent': '涨跌幅限制（%）',
      'operator.define': '设立',
      'operator.instrument_defined': '品种 {code} 已设立，对应 {batches} 个签发批次。',
      'operator.market_now': '当前市场状态',
      'operator.opening_call': '集合竞价开始',
      'operator.sessions': '连续竞价时段',
      'operator.books': '各品种盘面',
      'operator.closures': '休市安排',
      'operator.closure_years': '日历已含以下年份的休市安排：{years}。每年 11 月前后国务院办公厅发布次年节假日安排后，请在此登记次年的工作日休市日。',
      'operator.closure_day': '日期',
      'operator.closure_name': '名称',
      'operator.closure_source': '依据',
      'operator.closure_source_help': '例如：国务院办公厅关于 2027 年部分节假日安排的通知（发布日期）。',
      'operator.closure_name_placeholder': '例如：元旦',
      'operator.closure_withdraw': '撤销',
      'operator.closure_withdrawn': '{day} 的休市安排已撤销。',
      'operator.closure_recorded': '已登记',
      'operator.closure_notice': '国务院通知',
      'operator.closure_record_title': '登记休市日',
      'operator.closure_record': '登记',
      'operator.closure_recorded_note': '{day} 已登记为休市日：各品种当日不开市，转让限制顺延。',
      'operator.no_closures': '一年内没有休市安排',
      'operator.best_bid': '最高买价',
      'operator.best_ask': '最低卖价',
      'operator.sessions_help': '交易时段由 CARBONX_MARKET_HOURS 配置（北京时间，周一至周五）；收市时当日有效委托失效，参考价滚动为收盘价。',
      'operator.ledger': '账簿核对',
      'operator.entries': '已核对分录',
      'operator.batches_checked': '已核对批次',
      'operator.audit': '审计链',
      'operator.ok': '一致',
      'operator.broken': '不一致',
      'operator.problems': '发现的问题',
      'operator.per_batch': '各批次守恒',
      'operator.ledger_help': '每笔分录借贷平衡；每个批次：签发量 = 可用 + 冻结 + 已注销 + 已收回。',
      'operator.ledger.batch': '批次',
      'operator.ledger.issued_t': '签发（吨）',
      'operator.ledger.available_t': '可用',
      'operator.ledger.held_t': '冻结',
      'operator.ledger.retired_t': '已注销',
      'operator.ledger.revoked_t': '已收回',
    },
    en: {
      'nav.operator': 'Operations',
      'nav.operator_desc': 'Admission, cash, retirements to execute, instruments and the ledger check',
      'operator.title': 'Operations center',
      'operator.lead': 'Admit and suspend traders, record deposits and withdrawals from bank confirmations, execute retirements, manage instruments and trading periods, check the ledger and the audit chain.',
      'operator.sections': 'Operations sections',
      'operator.tab.admission': 'Admission',
      'operator.tab.cash': 'Deposits and withdrawals',
      'operator.tab.retirements': 'Retirements to execute',
      'operator.tab.instruments': 'Instruments',
      'operator.tab.sessions': 'Trading periods',
      'operator.tab.ledger': 'Ledger check',
      'operator.choose': 'Choose',
      'operator.participant': 'Participant',
      'operator.kind': 'Kind',
      'operator.kind.enterprise': 'Enterprise',
      'operator.kind.institution': 'Institution',
      'operator.kind.agency': 'Agency',
      'operator.kind.association': 'Association',
      'operator.kind.individual': 'Individual',
      'operator.registry_status': 'Registry status',
      'operator.status.active': 'Active',
      'operator.status.suspended': 'Suspended',
      'operator.status.disqualified': 'Disqualified',
      'operator.trading_status': 'Trading',
      'operator.trading.admitted': 'Admitted',
      'operator.trading.suspended': 'Suspended',
      'operator.trading.not_admitted': 'Not admitted',
      'operator.reason': 'Reason',
      'operator.reason_for': 'Reason for {code}',
      'operator.reason_help': 'Recorded in the audit chain.',
      'operator.apply': 'Apply',
      'operator.admission_form': 'Admit or suspend',
      'operator.admission_help': 'Under Art. 19 a trader trades only once admitted by the operations center; a suspended one places no new orders.',
      'operator.admission_done': 'Participant #{id} is now: {status}.',
      'operator.participants': 'Participants',
      'operator.cash_form': 'Record a deposit or withdrawal',
      'operator.cash_help': 'From the bank confirmation; each bank reference is recorded once. A withdrawal cannot exceed the available cash.',
      'operator.cash_kind': 'Kind',
      'operator.deposit': 'Deposit',
      'operator.withdrawal': 'Withdrawal',
      'operator.amount_yuan': 'Amount (¥)',
      'operator.amount_placeholder': 'e.g. 100000.00',
      'operator.bank_reference': 'Bank reference',
      'operator.bank_reference_help': '4–64 letters, digits or - _ /.',
      'operator.record': 'Record',
      'operator.cash_done': '{kind} of {amount} recorded (participant #{id}); available {available}, held {held}.',
      'operator.pending': 'Retirement requests to execute',
      'operator.pending_help': 'The requested credits are held; executing retires their serial numbers for good, publicly, with a certificate.',
      'operator.no_pending': 'Nothing to execute',
      'operator.execute': 'Execute',
      'operator.executed': 'Retirement {code} executed: {quantity}.',
      'operator.recent_retirements': 'Recently executed',
      'operator.instruments': 'Instruments',
      'operator.vintage': 'Vintage',
      'operator.band': 'Band',
      'operator.batches': 'Batches',
      'operator.halt': 'Halt',
      'operator.resume': 'Resume',
      'operator.instrument_status': '{code}: {status}.',
      'operator.define_title': 'Define an instrument',
      'operator.define_help': 'One vintage (optionally one methodology field) is one instrument; the reference price anchors the price band.',
      'operator.code': 'Code',
      'operator.code_placeholder': 'e.g. JXCI-2026',
      'operator.name_zh': 'Name (Chinese)',
      'operator.name_en': 'Name (English)',
      'operator.reference_yuan': 'Reference price (¥ per tonne)',
      'operator.reference_help': 'May be empty: no band until the first trade.',
      'operator.band_percent': 'Price band (%)',
      'operator.define': 'Define',
      'operator.instrument_defined': 'Instrument {code} defined over {batches} batches.',
      'operator.market_now': 'Market now',
      'operator.opening_call': 'Opening call from',
      'operator.sessions': 'Continuous trading periods',
      'operator.books': 'Books',
      'operator.closures': 'Market closures',
      'operator.closure_years': 'The calendar holds closures of: {years}. When the State Council publishes the next year\'s holidays (around November), record that year\'s weekday closures here.',
      'operator.closure_day': 'Date',
      'operator.closure_name': 'Name',
      'operator.closure_source': 'Source',
      'operator.closure_source_help': 'For example: State Council General Office notice on the 2027 holidays (date published).',
      'operator.closure_name_placeholder': 'e.g. 元旦',
      'operator.closure_withdraw': 'Withdraw',
      'operator.closure_withdrawn': 'The closure of {day} is withdrawn.',
      'operator.closure_recorded': 'Recorded',
      'operator.closure_notice': 'State Council notice',
      'operator.closure_record_title': 'Record a closure',
      'operator.closure_record': 'Record',
      'operator.closure_recorded_note': '{day} is recorded as a closure: no book opens that day and the resale lock runs over it.',
      'operator.no_closures': 'No closures within a year',
      'operator.best_bid': 'Best bid',
      'operator.best_ask': 'Best ask',
      'operator.sessions_help': 'Trading periods come from CARBONX_MARKET_HOURS (Beijing time, Monday to Friday); at the close DAY orders expire and the reference price rolls to the close.',
      'operator.ledger': 'Ledger',
      'operator.entries': 'Entries checked',
      'operator.batches_checked': 'Batches checked',
      'operator.audit': 'Audit chain',
      'operator.ok': 'Sound',
      'operator.broken': 'Broken',
      'operator.problems': 'Problems found',
      'operator.per_batch': 'Conservation per batch',
      'operator.ledger_help': 'Every entry balances; per batch: issued = available + held + retired + revoked.',
      'operator.ledger.batch': 'Batch',
      'operator.ledger.issued_t': 'Issued (t)',
      'operator.ledger.available_t': 'Available',
      'operator.ledger.held_t': 'Held',
      'operator.ledger.retired_t': 'Retired',
      'operator.ledger.revoked_t': 'Revoked',
    },
  },
  nav: [{ hash: '#/operator', label: 'nav.operator', description: 'nav.operator_desc', roles: ['operator'] }],
  routes: { operator: operatorPage },
};
