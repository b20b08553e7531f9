// Residents' carbon accounts and points (个人碳账户 / 碳积分), phone first: the resident's page (points, history
// by behaviour, consents, rewards) at #/points, and the operator's scenario page (records received, refusals by
// code, monthly filings) at #/scenarios. Every rule is the API's; the page only shows and asks.
import {
  api, badge, block, card, fmtDateTime, fmtNumber, form, h, heading, mount, refuseUnlessRole, showNotice,
  showProblem, stat, table, t,
} from '../lib.js';

function grams(value) {
  return `${fmtNumber(value)} g`;
}

async function residentPage(view) {
  if (refuseUnlessRole(view, ['resident'])) return;
  const out = h('div');
  let account;
  try {
    account = await api('GET', '/residents/me');
  } catch (err) {
    if (err.status !== 404) throw err;
    mount(view, heading('points.title', 'points.lead'), out, card('points.open', form([
      { name: 'display_name', label: 'points.display_name', required: true, maxlength: 100 },
    ], async (values) => {
      await api('POST', '/residents/me', { body: values });
      residentPage(view);
    }, { submit: 'points.open' })));
    return;
  }
  const scenarios = await api('GET', '/scenarios');
  const consented = new Set(account.consents.filter((c) => !c.revoked_at).map((c) => c.scenario_id));
  const byScenario = Object.fromEntries(scenarios.map((s) => [s.id, s]));
  const records = block(async () => {
    const mine = await api('GET', '/residents/me/records', { query: { limit: 20 } });
    const totals = {};
    for (const r of mine) totals[r.scenario_id] = (totals[r.scenario_id] || 0) + r.grams;
    return h('div', {},
      h('div', { class: 'stats' }, Object.entries(totals).map(([sid, g]) =>
        stat(byScenario[sid] ? byScenario[sid].title_zh : `#${sid}`, grams(g)))),
      table([
        { label: 'points.when', render: (r) => fmtDateTime(r.started_at) },
        { label: 'points.scenario', render: (r) => (byScenario[r.scenario_id] || {}).title_zh || `#${r.scenario_id}` },
        { label: 'points.outcome', render: (r) => [badge(r.outcome, `points.outcome.${r.outcome}`),
          r.code ? h('div', { class: 'muted small' }, r.code) : null] },
        { label: 'points.grams', render: (r) => grams(r.grams) },
        { label: 'points.points', render: (r) => fmtNumber(r.points) },
      ], mine));
  });
  const consents = h('ul', { class: 'plain' }, scenarios.map((s) => h('li', {},
    h('strong', {}, s.title_zh), ' ', consented.has(s.id) ? badge('active', 'points.consented') : null, ' ',
    h('button', { class: 'btn small', type: 'button', onclick: async () => {
      try {
        if (consented.has(s.id)) await api('DELETE', `/residents/me/consents/${s.id}`);
        else await api('POST', '/residents/me/consents', { body: { scenario_id: s.id } });
        residentPage(view);
      } catch (err) { showProblem(out, err); }
    } }, t(consented.has(s.id) ? 'points.revoke' : 'points.consent')))));
  const rewards = block(async (reload) => {
    const shelf = await api('GET', '/rewards');
    return table([
      { label: 'points.reward', render: (o) => o.title_zh },
      { label: 'points.cost', render: (o) => fmtNumber(o.points_cost) },
      { label: 'points.stock', render: (o) => fmtNumber(o.stock) },
      { label: '', render: (o) => h('button', { class: 'btn small primary', type: 'button', disabled: o.stock < 1,
        onclick: async () => {
          try {
            await api('POST', '/residents/me/redemptions', { body: { offer_id: o.id } });
            showNotice(out, t('points.redeemed', { title: o.title_zh }));
            reload();
          } catch (err) { showProblem(out, err); }
        } }, t('points.redeem')) },
    ], shelf);
  });
  const b = account.balances;
  mount(view, heading('points.title', 'points.lead'), out,
    card(null, h('p', { class: 'muted small' }, t('points.reference', { reference: account.reference })),
      h('div', { class: 'stats' }, stat('points.available', fmtNumber(b.available)),
        stat('points.redeemed_total', fmtNumber(b.redeemed)), stat('points.donated', fmtNumber(b.donated)),
        stat('points.expired', fmtNumber(b.expired)))),
    card('points.history', records), card('points.consents', consents), card('points.rewards', rewards));
}

async function scenariosPage(view, args) {
  if (refuseUnlessRole(view, ['owner'])) return;
  const session = await api('GET', '/auth/me');
  const mine = (await api('GET', '/scenarios')).filter((s) => s.operator_participant_id === session.participant_id);
  const out = h('div');
  const sections = mine.map((s) => card(null, h('h2', {}, `${s.title_zh} (${s.code})`),
    h('div', { class: 'stats' }, stat('points.residents', fmtNumber(s.residents)),
      stat('points.tonnes', fmtNumber(s.tonnes)), stat('points.issued', fmtNumber(s.points_issued))),
    block(async () => table([
      { label: 'points.outcome', render: (c) => badge(c.outcome, `points.outcome.${c.outcome}`) },
      { label: 'points.code', render: (c) => c.code || '—' },
      { label: 'points.records', render: (c) => fmtNumber(c.records) },
    ], await api('GET', `/scenarios/${s.id}/outcomes`))),
    block(async (reload) => h('div', {}, table([
      { label: 'points.month', render: (f) => f.month },
      { label: 'points.records', render: (f) => fmtNumber(f.record_count) },
      { label: 'points.tonnes', render: (f) => fmtNumber(f.tonnes) },
      { label: 'points.filing', render: (f) => h('a', { href: `#/filings/${f.filing_id}` }, `#${f.filing_id}`) },
    ], await api('GET', `/scenarios/${s.id}/filings`)), form([
      { name: 'month', label: 'points.month', required: true, placeholder: '2026-11', maxlength: 7 },
    ], async (values) => {
      const filed = await api('POST', `/scenarios/${s.id}/filings`, { body: values });
      showNotice(out, t('points.filed', { month: filed.month, tonnes: filed.tonnes, id: filed.filing_id }));
      reload();
    }, { submit: 'points.file' })))));
  mount(view, heading('points.scenarios_title', 'points.scenarios_lead'), out,
    sections.length ? sections : card(null, h('p', {}, t('common.empty'))));
  void args;
}

export default {
  messages: {
    zh: {
      'nav.points': '我的碳积分',
      'nav.points_desc': '绿色出行积分、授权与权益兑换',
      'nav.scenarios': '减排场景',
      'nav.scenarios_desc': '场景记录、拒收原因与月度备案',
      'role.resident': '居民',
      'points.title': '我的碳账户',
      'points.lead': '授权的减排场景记录您的绿色行为，按减排克数计碳积分；积分可兑换权益或捐赠，不可转让。',
      'points.open': '开立个人碳账户',
      'points.display_name': '称呼',
      'points.reference': '账户编号：{reference}（授权场景时提供给运营方）',
      'points.available': '可用积分',
      'points.redeemed_total': '已兑换',
      'points.donated': '已捐赠',
      'points.expired': '已过期',
      'points.history': '行为记录',
      'points.consents': '场景授权',
      'points.consent': '授权',
      'points.revoke': '撤回授权',
      'points.consented': '已授权',
      'points.rewards': '权益兑换',
      'points.reward': '权益',
      'points.cost': '所需积分',
      'points.stock': '库存',
      'points.redeem': '兑换',
      'points.redeemed': '已兑换：{title}',
      'points.when': '时间',
      'points.scenario': '场景',
      'points.outcome': '结果',
      'points.outcome.accepted': '已计入',
      'points.outcome.capped': '部分计入',
      'points.outcome.refused': '未计入',
      'points.outcome.held': '待审核',
      'points.grams': '减排量',
      'points.points': '积分',
      'points.scenarios_title': '减排场景',
      'points.scenarios_lead': '收到的记录、按原因统计的拒收、按月汇总的备案申请（Σ克 ÷ 10⁶ 向下取整为吨）。',
      'points.residents': '参与居民',
      'points.tonnes': '减排量（吨）',
      'points.issued': '已发积分',
      'points.code': '原因代码',
      'points.records': '记录数',
      'points.month': '月份',
      'points.filing': '备案申请',
      'points.file': '汇总申报',
      'points.filed': '{month} 已汇总为 {tonnes} 吨的备案申请草稿 #{id}。',
    },
    en: {
      'nav.points': 'My carbon points',
      'nav.points_desc': 'Green-travel points, consents and rewards',
      'nav.scenarios': 'Reduction scenarios',
      'nav.scenarios_desc': 'Records, refusals by code and monthly filings',
      'role.resident': 'Resident',
      'points.title': 'My carbon account',
      'points.lead': 'Scenarios you consent to count your green behaviour in grams and credit points; points are redeemed or donated, never transferred.',
      'points.open': 'Open a carbon account',
      'points.display_name': 'Name to show',
      'points.reference': 'Account reference: {reference} (give it to an operator when you consent)',
      'points.available': 'Available',
      'points.redeemed_total': 'Redeemed',
      'points.donated': 'Donated',
      'points.expired': 'Expired',
      'points.history': 'History',
      'points.consents': 'Consents',
      'points.consent': 'Consent',
      'points.revoke': 'Revoke',
      'points.consented': 'Consented',
      'points.rewards': 'Rewards',
      'points.reward': 'Reward',
      'points.cost': 'Points',
      'points.stock': 'Stock',
      'points.redeem': 'Redeem',
      'points.redeemed': 'Redeemed: {title}',
      'points.when': 'When',
      'points.scenario': 'Scenario',
      'points.outcome': 'Outcome',
      'points.outcome.accepted': 'Counted',
      'points.outcome.capped': 'Capped',
      'points.outcome.refused': 'Refused',
      'points.outcome.held': 'Held for review',
      'points.grams': 'Reduction',
      'points.points': 'Points',
      'points.scenarios_title': 'Reduction scenarios',
      'points.scenarios_lead': 'Records received, refusals by code, and monthly draft filings (Σ g ÷ 10⁶, rounded down to tonnes).',
      'points.residents': 'Residents',
      'points.tonnes': 'Tonnes',
      'points.issued': 'Points issued',
      'points.code': 'Code',
      'points.records': 'Records',
      'points.month': 'Month',
      'points.filing': 'Filing',
      'points.file': 'File the month',
      'points.filed': '{month} filed as a draft of {tonnes} t, filing #{id}.',
    },
  },
  nav: [
    { hash: '#/points', label: 'nav.points', description: 'nav.points_desc', roles: ['resident'] },
    { hash: '#/scenarios', label: 'nav.scenarios', description: 'nav.scenarios_desc', roles: ['owner'] },
  ],
  routes: { points: residentPage, scenarios: scenariosPage },
};
