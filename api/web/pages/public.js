// Public pages (no login): the registry's disclosure (Art. 24) — methodologies with parameter history,
// projects, public notices with objections, issuances, retirements, revocations, the serial-number lookup,
// certificate verification — and violation reports in confidence (Art. 27).
import {
  api, badge, details, fmtDate, fmtDateTime, fmtNumber, fmtTonnes, form, go, h, heading, lang, loading, mount,
  onLeave, pick, showNotice, showProblem, table, t,
} from '../lib.js';

const messages = {
  zh: {
    'nav.methodologies': '方法学与参数',
    'nav.projects': '项目',
    'nav.notices': '公示与异议',
    'nav.issuances': '签发',
    'nav.retirements': '注销',
    'nav.revocations': '收回',
    'nav.serial': '序列号查询',
    'nav.report': '违规举报',
    'nav.report_status': '举报进展查询',
    'desc.methodologies': '已登记与公示中的方法学，关键参数及其历史版本',
    'desc.projects': '已登记的碳普惠项目',
    'desc.notices': '公示中的方法学、备案与参数，可提出异议',
    'desc.issuances': '每一次签发的序列号段、项目与方法学',
    'desc.retirements': '已注销的减排量、用途与受益方',
    'desc.revocations': '因虚假材料收回的减排量及公告',
    'desc.serial': '输入序列号，查看一吨减排量的全过程',
    'desc.report': '保密举报违规行为（第二十七条）',
    'desc.report_status': '凭回执码查询举报处理进展',
    'status.draft': '草稿',
    'status.commissioned': '已委托核证',
    'status.verified': '已核证',
    'status.submitted': '已提交，待核证中心审核',
    'status.center_approved': '核证中心审核通过',
    'status.expert_review': '专家评审中',
    'status.expert_approved': '专家评审通过',
    'status.public_notice': '公示中',
    'status.registered': '已登记',
    'status.issued': '已签发',
    'status.rejected': '已驳回',
    'status.published': '已发布',
    'status.requested': '待执行',
    'status.executed': '已注销',
    'status.cancelled': '已撤回',
    'status.available': '可用',
    'status.held': '冻结',
    'status.retired': '已注销',
    'status.revoked': '已收回',
    'status.received': '已受理',
    'status.investigating': '调查中',
    'status.closed': '已办结',
    'status.open': '待裁定',
    'status.upheld': '异议成立',
    'status.dismissed': '异议不成立',
    'field.renewable_energy': '可再生能源',
    'field.energy_efficiency': '节能增效',
    'field.transport': '交通',
    'field.buildings': '建筑',
    'field.forestry_agriculture_sinks': '林业农业碳汇',
    'field.low_carbon_products': '低碳产品',
    'field.waste': '废弃物处理',
    'field.pollution_carbon_co_reduction': '减污降碳协同',
    'field.other': '其他',
    'purpose.event_neutrality': '大型活动碳中和',
    'purpose.pilot_unit': '低碳（零碳）试点单位',
    'purpose.ecological_restoration': '替代性生态修复',
    'purpose.voluntary': '自愿注销',
    'entry.issuance': '签发',
    'entry.transfer': '转让',
    'entry.trade': '成交',
    'entry.retirement': '注销',
    'entry.revocation': '收回',
    'col.code': '编号',
    'col.title': '名称',
    'col.field': '领域',
    'col.version': '版本',
    'col.status': '状态',
    'col.registered_at': '登记时间',
    'col.notice_end': '公示截止',
    'col.owner': '业主',
    'col.county': '所在区县',
    'col.methodology': '方法学',
    'col.crediting': '计入期',
    'col.batch': '批次',
    'col.vintage': '年度',
    'col.quantity': '数量',
    'col.serials': '序列号段',
    'col.project': '项目',
    'col.period': '监测期',
    'col.issued_at': '签发时间',
    'col.revoked': '已收回',
    'col.beneficiary': '受益方',
    'col.purpose': '用途',
    'col.executed_at': '注销时间',
    'col.certificate': '证书',
    'col.reason': '原因',
    'col.notice': '公告',
    'col.date': '日期',
    'col.value': '取值',
    'col.unit': '单位',
    'col.effective': '有效期',
    'col.source': '来源',
    'col.subject': '对象',
    'col.step': '计算步骤',
    'col.expression': '公式',
    'col.substituted': '代入',
    'col.result': '结果',
    'col.input': '输入项',
    'col.filing': '备案',
    'col.claimed': '申报量',
    'col.verified': '核证量',
    'meth.title': '方法学与关键参数',
    'meth.lead': '方法学经核证中心审核、专家评审、市生态环境局审批并公示后登记（第十条）；关键参数的每次更新都经公示，历史计算沿用当时的版本（第十一条）。',
    'meth.parameters': '关键参数及历史版本',
    'meth.definition': '计算表',
    'meth.inputs': '监测输入',
    'meth.uses': '使用的参数',
    'meth.history': '审核记录',
    'meth.try': '试算',
    'meth.try_lead': '填写监测数据，按所选日期有效的参数版本计算减排量。',
    'meth.owner_kinds': '适用主体',
    'meth.asset_kind': '资产标识',
    'calc.on': '参数适用日期',
    'calc.fill': '填写全部输入项后显示计算结果。',
    'calc.result': '减排量',
    'calc.parameters': '采用的参数版本',
    'proj.title': '碳普惠项目',
    'proj.lead': '已登记项目的公开信息。个人业主的姓名、地址与资产编号不公开。',
    'proj.issuances': '本项目的签发',
    'proj.assets': '资产标识',
    'proj.industry': '行业代码',
    'proj.owner_kind': '主体类型',
    'proj.rule_set': '适用规则',
    'notice.title': '公示与异议',
    'notice.lead': '公示期内任何单位和个人均可提出异议；联系方式仅生态环境局可见。',
    'notice.methodologies': '公示中的方法学',
    'notice.filings': '公示中的减排量备案',
    'notice.parameters': '公示中的参数版本',
    'notice.object': '提出异议',
    'notice.object_to': '对 {subject} 提出异议',
    'notice.name': '姓名或单位',
    'notice.contact': '联系方式',
    'notice.text': '异议内容及理由',
    'notice.lodged': '异议已提交（编号 {id}），生态环境局将依法处理。',
    'iss.title': '减排量签发',
    'iss.lead': '每次签发的整吨数、序列号段、项目与方法学（第二十四条）。',
    'ret.title': '减排量注销',
    'ret.lead': '已注销的减排量不可再交易；证书可凭二维码在线核验。',
    'ret.flagged': '其中批次 {codes} 后被收回',
    'ret.page': '核验页',
    'ret.pdf': 'PDF',
    'rev.title': '减排量收回',
    'rev.lead': '以虚假材料取得的减排量由市生态环境局收回并公告（第二十六条）。',
    'serial.title': '序列号查询',
    'serial.lead': '每吨减排量都有唯一序列号。输入序列号或带批次的完整编号，查看它从签发到注销的全过程；持有人以序号代替，不公开身份。',
    'serial.label': '序列号',
    'serial.submit': '查询',
    'serial.life': '流转记录',
    'serial.holder': '持有人 #{n}',
    'serial.holder_changes': '易手次数',
    'serial.holders': '持有人数',
    'serial.retired_for': '注销用途',
    'cert.title': '注销证书核验',
    'cert.verified': '已核验：本证书与登记簿记录一致',
    'cert.not_executed': '此注销申请尚未执行，证书暂不生效。',
    'cert.code': '证书编号',
    'cert.registry': '登记机构',
    'cert.issued_on': '出具日期',
    'cert.sources': '减排量来源',
    'cert.details': '用途说明',
    'cert.download': '下载 PDF 证书',
    'report.title': '违规举报',
    'report.lead': '发现碳普惠项目或交易中的违法违规行为，可以保密举报（第二十七条）。姓名与联系方式可不填；填写的身份信息仅市生态环境局可见。',
    'report.name': '姓名（可不填）',
    'report.contact': '联系方式（可不填）',
    'report.subject': '举报对象',
    'report.details': '举报内容',
    'report.details_help': '请写明时间、地点、涉及的项目或序列号等，至少 5 个字。',
    'report.submit': '提交举报',
    'report.receipt': '举报已受理。您的回执码：',
    'report.follow': '查询进展',
    'rstatus.title': '举报进展查询',
    'rstatus.lead': '输入提交举报时得到的回执码。',
    'rstatus.token': '回执码',
    'rstatus.submit': '查询',
    'rstatus.feedback': '处理反馈',
    'rstatus.none': '暂无反馈',
    'rstatus.updated': '更新时间',
    'rstatus.created': '提交时间',
  },
  en: {
    'nav.methodologies': 'Methodologies & parameters',
    'nav.projects': 'Projects',
    'nav.notices': 'Public notices',
    'nav.issuances': 'Issuances',
    'nav.retirements': 'Retirements',
    'nav.revocations': 'Revocations',
    'nav.serial': 'Serial lookup',
    'nav.report': 'Report a violation',
    'nav.report_status': 'Follow a report',
    'desc.methodologies': 'Registered methodologies and those in notice; key parameters with their history',
    'desc.projects': 'Registered carbon-inclusive projects',
    'desc.notices': 'Methodologies, filings and parameters in public notice; lodge an objection',
    'desc.issuances': 'Every issuance with its serial block, project and methodology',
    'desc.retirements': 'Retired credits with purpose and beneficiary',
    'desc.revocations': 'Credits taken back for false material, with the notices',
    'desc.serial': 'Follow one tonne from issuance to retirement',
    'desc.report': 'Report a violation in confidence (Art. 27)',
    'desc.report_status': 'Follow your report with the receipt token',
    'status.draft': 'Draft',
    'status.commissioned': 'Verifier commissioned',
    'status.verified': 'Verified',
    'status.submitted': 'Submitted, awaiting the center',
    'status.center_approved': 'Passed the center',
    'status.expert_review': 'Expert review',
    'status.expert_approved': 'Approved by experts',
    'status.public_notice': 'In public notice',
    'status.registered': 'Registered',
    'status.issued': 'Issued',
    'status.rejected': 'Rejected',
    'status.published': 'Published',
    'status.requested': 'Requested',
    'status.executed': 'Retired',
    'status.cancelled': 'Withdrawn',
    'status.available': 'Available',
    'status.held': 'Held',
    'status.retired': 'Retired',
    'status.revoked': 'Revoked',
    'status.received': 'Received',
    'status.investigating': 'Investigating',
    'status.closed': 'Closed',
    'status.open': 'Open',
    'status.upheld': 'Upheld',
    'status.dismissed': 'Dismissed',
    'field.renewable_energy': 'Renewable energy',
    'field.energy_efficiency': 'Energy efficiency',
    'field.transport': 'Transport',
    'field.buildings': 'Buildings',
    'field.forestry_agriculture_sinks': 'Forestry & agricultural sinks',
    'field.low_carbon_products': 'Low-carbon products',
    'field.waste': 'Waste',
    'field.pollution_carbon_co_reduction': 'Pollution & carbon co-reduction',
    'field.other': 'Other',
    'purpose.event_neutrality': 'Event neutrality',
    'purpose.pilot_unit': 'Low/zero-carbon pilot unit',
    'purpose.ecological_restoration': 'Ecological restoration',
    'purpose.voluntary': 'Voluntary',
    'entry.issuance': 'Issued',
    'entry.transfer': 'Transferred',
    'entry.trade': 'Traded',
    'entry.retirement': 'Retired',
    'entry.revocation': 'Revoked',
    'col.code': 'Code',
    'col.title': 'Title',
    'col.field': 'Field',
    'col.version': 'Version',
    'col.status': 'Status',
    'col.registered_at': 'Registered',
    'col.notice_end': 'Notice ends',
    'col.owner': 'Owner',
    'col.county': 'County',
    'col.methodology': 'Methodology',
    'col.crediting': 'Crediting period',
    'col.batch': 'Batch',
    'col.vintage': 'Vintage',
    'col.quantity': 'Quantity',
    'col.serials': 'Serial block',
    'col.project': 'Project',
    'col.period': 'Monitoring period',
    'col.issued_at': 'Issued',
    'col.revoked': 'Revoked',
    'col.beneficiary': 'Beneficiary',
    'col.purpose': 'Purpose',
    'col.executed_at': 'Retired on',
    'col.certificate': 'Certificate',
    'col.reason': 'Reason',
    'col.notice': 'Notice',
    'col.date': 'Date',
    'col.value': 'Value',
    'col.unit': 'Unit',
    'col.effective': 'Effective',
    'col.source': 'Source',
    'col.subject': 'Subject',
    'col.step': 'Step',
    'col.expression': 'Formula',
    'col.substituted': 'Substituted',
    'col.result': 'Result',
    'col.input': 'Input',
    'col.filing': 'Filing',
    'col.claimed': 'Claimed',
    'col.verified': 'Verified',
    'meth.title': 'Methodologies and key parameters',
    'meth.lead': 'A methodology is registered after the certification center, the experts and the bureau approve it and its public notice ends (Art. 10); every parameter update goes through notice too, and past calculations keep their versions (Art. 11).',
    'meth.parameters': 'Key parameters and their history',
    'meth.definition': 'Calculation table',
    'meth.inputs': 'Monitored inputs',
    'meth.uses': 'Parameters used',
    'meth.history': 'Review history',
    'meth.try': 'Try the calculation',
    'meth.try_lead': 'Enter monitoring data; the parameter versions in force on the chosen date apply.',
    'meth.owner_kinds': 'For owners',
    'meth.asset_kind': 'Asset identifier',
    'calc.on': 'Parameters in force on',
    'calc.fill': 'Fill in every input to see the result.',
    'calc.result': 'Reduction',
    'calc.parameters': 'Parameter versions applied',
    'proj.title': 'Carbon-inclusive projects',
    'proj.lead': 'Public facts of registered projects. An individual owner’s name, address and asset numbers are not shown.',
    'proj.issuances': 'Issuances of this project',
    'proj.assets': 'Asset identifiers',
    'proj.industry': 'Industry code',
    'proj.owner_kind': 'Owner kind',
    'proj.rule_set': 'Rule set',
    'notice.title': 'Public notices and objections',
    'notice.lead': 'Anyone may object during a notice; your contact is seen by the bureau only.',
    'notice.methodologies': 'Methodologies in notice',
    'notice.filings': 'Reduction filings in notice',
    'notice.parameters': 'Parameter versions in notice',
    'notice.object': 'Object',
    'notice.object_to': 'Object to {subject}',
    'notice.name': 'Name or organisation',
    'notice.contact': 'Contact',
    'notice.text': 'Objection and reasons',
    'notice.lodged': 'Objection lodged (no. {id}); the bureau will rule on it.',
    'iss.title': 'Issuances',
    'iss.lead': 'Every issuance in whole tonnes with its serial block, project and methodology (Art. 24).',
    'ret.title': 'Retirements',
    'ret.lead': 'Retired credits can never be traded again; each certificate can be verified online by its QR code.',
    'ret.flagged': 'batch {codes} was later revoked',
    'ret.page': 'Verify',
    'ret.pdf': 'PDF',
    'rev.title': 'Revocations',
    'rev.lead': 'Credits obtained with false material are taken back by the bureau with a public notice (Art. 26).',
    'serial.title': 'Serial number lookup',
    'serial.lead': 'Every tonne has its own serial number. Enter the number or its full label to see its life from issuance to retirement; holders are numbered, never named.',
    'serial.label': 'Serial number',
    'serial.submit': 'Look up',
    'serial.life': 'Life of this tonne',
    'serial.holder': 'holder #{n}',
    'serial.holder_changes': 'Changes of holder',
    'serial.holders': 'Holders',
    'serial.retired_for': 'Retired for',
    'cert.title': 'Retirement certificate',
    'cert.verified': 'Verified: this certificate matches the registry',
    'cert.not_executed': 'This retirement has not been executed yet; the certificate is not in force.',
    'cert.code': 'Certificate',
    'cert.registry': 'Registry',
    'cert.issued_on': 'Issued on',
    'cert.sources': 'Where the credits come from',
    'cert.details': 'Purpose details',
    'cert.download': 'Download the PDF certificate',
    'report.title': 'Report a violation',
    'report.lead': 'Report a violation in carbon-inclusive projects or trading in confidence (Art. 27). Name and contact are optional; if given, only the bureau sees them.',
    'report.name': 'Name (optional)',
    'report.contact': 'Contact (optional)',
    'report.subject': 'Who or what',
    'report.details': 'What happened',
    'report.details_help': 'When, where, which project or serial numbers; at least 5 characters.',
    'report.submit': 'Send report',
    'report.receipt': 'Report received. Your receipt token:',
    'report.follow': 'Follow this report',
    'rstatus.title': 'Follow a report',
    'rstatus.lead': 'Enter the receipt token you were given.',
    'rstatus.token': 'Receipt token',
    'rstatus.submit': 'Look up',
    'rstatus.feedback': 'Feedback',
    'rstatus.none': 'No feedback yet',
    'rstatus.updated': 'Updated',
    'rstatus.created': 'Lodged',
  },
};

// ---------------------------------------------------------------- shared pieces (also used by owner.js, review.js)

let countyNames = null;

/** code → county name in the current language (loaded once). */
export async function counties() {
  if (!countyNames) countyNames = await api('GET', '/reference/counties');
  return Object.fromEntries(countyNames.map((c) => [c.code, pick(c, 'name')]));
}

export const purposeLabel = (purpose) => t(`purpose.${purpose}`);

/** The certificate links of a retirement: the verification page and the PDF. */
export function certificateLinks(retirement) {
  return h('span', { class: 'actions' },
    h('a', { href: `#/certificates/${retirement.id}` }, t('ret.page')),
    h('a', { href: `/retirements/${retirement.id}/certificate.pdf`, download: `${retirement.code}.pdf` }, t('ret.pdf')));
}

/** A review history (GET …/history) as a timeline. */
export function historyList(actions) {
  if (!actions.length) return h('p', { class: 'muted' }, t('common.empty'));
  return h('ol', { class: 'timeline' }, actions.map((a) => h('li', {},
    h('time', {}, fmtDateTime(a.at)), h('strong', {}, t(`role.${a.actor_role}`)), ' · ', t(`action.${a.action}`),
    ' → ', badge(a.to_state), a.comment ? h('div', { class: 'muted' }, a.comment) : null)));
}

/** The trace of a stored or fresh calculation (steps with formulas, values and the parameters used). */
export function traceTable(calculation) {
  const params = Array.isArray(calculation.parameters)
    ? calculation.parameters
    : Object.entries(calculation.parameters || {}).map(([code, p]) => ({ code, ...p }));
  const last = calculation.trace.length - 1;
  const steps = table([
    { label: 'col.step', render: (s) => pick(s, 'label') },
    { label: 'col.expression', class: 'expr', render: (s) => h('span', {}, s.expression, h('br'), s.substituted) },
    { label: 'col.result', num: true, render: (s) => `${fmtNumber(s.value)} ${s.unit}` },
  ], calculation.trace);
  steps.querySelector('table').classList.add('trace');
  const rows = steps.querySelectorAll('tbody tr');
  if (last >= 0 && rows[last]) rows[last].classList.add('result');
  return h('div', {}, steps, params.length ? [h('h3', {}, t('calc.parameters')), table([
    { key: 'code', label: 'col.code', render: (p) => h('code', {}, p.code) },
    { key: 'version', label: 'col.version', num: true },
    { key: 'value', label: 'col.value', num: true },
    { key: 'source', label: 'col.source', class: 'small' },
  ], params)] : null);
}

/** The live calculation table of a methodology version: an input per monitored quantity, recalculated by
 * the API as you type. Returns {el, values(), setOn(date)}; values() → {inputs, on} or null if incomplete.
 * dateField: false when the caller sets the date (a filing's parameters are those of its period's start). */
export function calculator(version, { on = '', onResult, dateField = true } = {}) {
  const spec = version.definition.inputs;
  const fields = {};
  const onInput = h('input', { type: 'date', value: on, onInput: schedule, 'aria-label': t('calc.on') });
  const output = h('div', { class: 'calc-output' }, h('p', { class: 'muted' }, t('calc.fill')));
  const rows = spec.map((input) => {
    fields[input.name] = h('input', { type: 'text', inputmode: 'decimal', name: input.name, onInput: schedule,
      'aria-label': pick(input, 'label') });
    return h('tr', {}, h('td', {}, pick(input, 'label'), h('br'), h('code', { class: 'muted small' }, input.name)),
      h('td', {}, fields[input.name]), h('td', {}, input.unit));
  });
  let timer = null;
  let sequence = 0;
  function values() {
    const inputs = {};
    for (const [name, el] of Object.entries(fields)) {
      const value = el.value.trim();
      if (!/^-?\d{1,15}(\.\d{1,10})?$/.test(value)) return null;
      inputs[name] = value;
    }
    return onInput.value ? { inputs, on: onInput.value } : null;
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  }
  async function run() {
    const current = values();
    const mine = ++sequence;
    if (!current) {
      mount(output, h('p', { class: 'muted' }, t('calc.fill')));
      if (onResult) onResult(null);
      return;
    }
    try {
      const result = await api('POST', `/methodology-versions/${version.id}/calculate`, { body: current });
      if (mine !== sequence) return;
      mount(output, h('p', { class: 'calc-result' }, t('calc.result'), ': ', h('strong', {}, fmtTonnes(result.result))),
        traceTable(result));
      if (onResult) onResult(result);
    } catch (err) {
      if (mine === sequence) showProblem(output, err);
      if (onResult) onResult(null);
    }
  }
  onLeave(() => clearTimeout(timer));
  const el = h('div', { class: 'calculator' },
    dateField ? h('div', { class: 'field' }, h('label', {}, t('calc.on')), onInput) : null,
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {},
      h('th', {}, t('col.input')), h('th', {}, t('col.value')), h('th', {}, t('col.unit')))), h('tbody', {}, rows))),
    output);
  return {
    el,
    values,
    setOn(date) {
      onInput.value = date;
      schedule();
    },
  };
}

function countyOf(names, code) {
  return names[code] || code;
}

const periodOf = (start, end) => `${fmtDate(start)} ~ ${fmtDate(end)}`;

// ---------------------------------------------------------------- methodologies and parameters

async function methodologiesPage(view, args) {
  if (args[0]) return methodologyPage(view, args[0]);
  const [page, parameters] = await Promise.all([api('GET', '/methodologies', { query: { limit: 200 } }),
    api('GET', '/parameters')]);
  mount(view, heading('meth.title', 'meth.lead'),
    table([
      { label: 'col.code', render: (v) => h('a', { href: `#/methodologies/${v.methodology_id}` }, v.code) },
      { label: 'col.title', render: (v) => pick(v, 'title') },
      { label: 'col.field', render: (v) => t(`field.${v.field}`) },
      { key: 'version', label: 'col.version', num: true },
      { label: 'col.status', render: (v) => badge(v.status) },
      { label: 'col.registered_at', render: (v) => fmtDate(v.registered_at || v.notice_end) },
    ], page.items),
    h('h2', {}, t('meth.parameters')),
    parameters.map(parameterCard));
}

function parameterCard(p) {
  return h('section', { class: 'card', id: `parameter-${p.code}` },
    h('h3', {}, pick(p, 'name'), ' ', h('code', { class: 'muted small' }, p.code), ' ', h('span', { class: 'muted' }, p.unit)),
    table([
      { key: 'version', label: 'col.version', num: true },
      { key: 'value', label: 'col.value', num: true, render: (v) => h('strong', {}, v.value) },
      { label: 'col.effective', render: (v) => `${fmtDate(v.effective_from)} ~ ${v.effective_to ? fmtDate(v.effective_to) : ''}` },
      { label: 'col.status', render: (v) => badge(v.status) },
      { key: 'source', label: 'col.source', class: 'small' },
    ], p.versions));
}

async function methodologyPage(view, id) {
  const methodology = await api('GET', `/methodologies/${encodeURIComponent(id)}`);
  const latest = methodology.versions[methodology.versions.length - 1];
  const parameters = await api('GET', '/parameters');
  const histories = await Promise.all(methodology.versions.map((v) => api('GET', `/methodology-versions/${v.id}/history`)));
  const body = [];
  methodology.versions.slice().reverse().forEach((version) => {
    const def = version.definition;
    const used = parameters.filter((p) => def.parameters.includes(p.code));
    body.push(h('section', { class: 'card' },
      h('h2', {}, t('col.version'), ` ${version.version} `, badge(version.status)),
      h('p', {}, pick(def, 'description')),
      details([
        ['meth.owner_kinds', def.inclusive_owner_kinds.map((k) => t(`owner_kind.${k}`)).join(t('common.list_sep'))],
        ['meth.asset_kind', def.asset_identifier_kind],
        ['col.notice_end', version.notice_end ? fmtDate(version.notice_end) : null],
        ['col.registered_at', version.registered_at ? fmtDateTime(version.registered_at) : null],
      ]),
      h('h3', {}, t('meth.inputs')),
      table([
        { key: 'name', label: 'col.code', render: (i) => h('code', {}, i.name) },
        { label: 'col.title', render: (i) => pick(i, 'label') },
        { key: 'unit', label: 'col.unit' },
      ], def.inputs),
      h('h3', {}, t('meth.definition')),
      table([
        { label: 'col.step', render: (s) => pick(s, 'label') },
        { key: 'expression', label: 'col.expression', class: 'expr', render: (s) => h('code', {}, s.expression) },
        { key: 'unit', label: 'col.unit' },
      ], def.calculation),
      h('h3', {}, t('meth.uses')),
      used.length ? used.map(parameterCard) : h('p', { class: 'muted' }, t('common.empty')),
      h('h3', {}, t('meth.history')),
      historyList(histories[methodology.versions.indexOf(version)])));
  });
  const calc = calculator(latest, { on: fmtDate(new Date().toISOString()) });
  mount(view, h('p', {}, h('a', { href: '#/methodologies' }, `← ${t('nav.methodologies')}`)),
    h('h1', {}, pick(methodology, 'title')),
    h('p', { class: 'lead' }, h('code', {}, methodology.code), ' · ', t(`field.${methodology.field}`)),
    h('div', { class: 'split' }, h('div', {}, body),
      h('section', { class: 'card sticky' }, h('h2', {}, t('meth.try')), h('p', { class: 'muted' }, t('meth.try_lead')), calc.el)));
}

// ---------------------------------------------------------------- projects

async function projectsPage(view, args) {
  if (args[0]) return projectPage(view, args[0]);
  const [page, names, methodologies] = await Promise.all([api('GET', '/projects', { query: { limit: 200 } }), counties(),
    api('GET', '/methodologies', { query: { limit: 200 } })]);
  const versions = Object.fromEntries(methodologies.items.map((v) => [v.id, v]));
  mount(view, heading('proj.title', 'proj.lead'), projectTable(page.items, names, versions));
}

export function projectTable(projects, names, versions, link = (p) => `#/projects/${p.id}`) {
  return table([
    { label: 'col.code', render: (p) => h('a', { href: link(p) }, p.code || `#${p.id}`) },
    { key: 'title', label: 'col.title' },
    { key: 'owner_name', label: 'col.owner' },
    { label: 'col.county', render: (p) => countyOf(names, p.county_code) },
    { label: 'col.methodology', render: (p) => (versions[p.methodology_version_id] ? versions[p.methodology_version_id].code : `#${p.methodology_version_id}`) },
    { label: 'col.crediting', render: (p) => periodOf(p.crediting_start, p.crediting_end) },
    { label: 'col.status', render: (p) => badge(p.status) },
  ], projects);
}

async function projectPage(view, id) {
  const [project, names, issued] = await Promise.all([api('GET', `/projects/${encodeURIComponent(id)}`), counties(),
    api('GET', '/disclosure/issuances', { query: { project_id: id, limit: 200 } })]);
  const version = await api('GET', `/methodology-versions/${project.methodology_version_id}`);
  mount(view, h('p', {}, h('a', { href: '#/projects' }, `← ${t('nav.projects')}`)),
    h('h1', {}, project.title, ' ', badge(project.status)),
    h('section', { class: 'card' }, project.description ? h('p', {}, project.description) : null, details([
      ['col.code', project.code],
      ['col.owner', project.owner_name],
      ['proj.owner_kind', t(`owner_kind.${project.owner_kind}`)],
      ['col.county', `${countyOf(names, project.county_code)}${project.address ? ` · ${project.address}` : ''}`],
      ['col.methodology', h('a', { href: `#/methodologies/${version.methodology_id}` }, `${version.code} v${version.version} · ${pick(version, 'title')}`)],
      ['col.crediting', periodOf(project.crediting_start, project.crediting_end)],
      ['proj.industry', project.industry_code],
      ['proj.assets', project.asset_identifiers.join(t('common.list_sep'))],
      ['proj.rule_set', project.rule_set_code],
      ['col.registered_at', project.registered_at ? fmtDateTime(project.registered_at) : null],
    ])),
    h('h2', {}, t('proj.issuances')), issuanceTable(issued.items));
}

// ---------------------------------------------------------------- public notices and objections

async function noticesPage(view) {
  const [methodologies, filings, parameters] = await Promise.all([
    api('GET', '/methodologies', { query: { status: 'public_notice', limit: 200 } }),
    api('GET', '/filings', { query: { status: 'public_notice', limit: 200 } }),
    api('GET', '/parameters')]);
  const inNotice = parameters.flatMap((p) => p.versions.filter((v) => v.status === 'public_notice')
    .map((v) => ({ ...v, parameter: p })));
  const formBox = h('div', { id: 'objection' });
  const objectButton = (subject, path) => h('button', { type: 'button', class: 'btn small', onClick: () => {
    objectionForm(formBox, subject, path);
    formBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
  } }, t('notice.object'));
  mount(view, heading('notice.title', 'notice.lead'),
    h('h2', {}, t('notice.filings')),
    table([
      { key: 'code', label: 'col.filing' },
      { label: 'col.project', render: (f) => h('a', { href: `#/projects/${f.project_id}` }, `#${f.project_id}`) },
      { label: 'col.period', render: (f) => periodOf(f.monitoring_start, f.monitoring_end) },
      { label: 'col.claimed', num: true, render: (f) => fmtTonnes(f.calculated_tco2e) },
      { label: 'col.verified', num: true, render: (f) => fmtTonnes(f.verified_tco2e) },
      { label: 'col.notice_end', render: (f) => fmtDate(f.notice_end) },
      { label: '', render: (f) => objectButton(`${t('col.filing')} ${f.code}`, `/filings/${f.id}/objections`) },
    ], filings.items),
    h('h2', {}, t('notice.methodologies')),
    table([
      { label: 'col.code', render: (v) => h('a', { href: `#/methodologies/${v.methodology_id}` }, v.code) },
      { label: 'col.title', render: (v) => pick(v, 'title') },
      { key: 'version', label: 'col.version', num: true },
      { label: 'col.notice_end', render: (v) => fmtDate(v.notice_end) },
      { label: '', render: (v) => objectButton(`${v.code} v${v.version}`, `/methodology-versions/${v.id}/objections`) },
    ], methodologies.items),
    h('h2', {}, t('notice.parameters')),
    table([
      { label: 'col.code', render: (v) => h('code', {}, v.parameter_code) },
      { label: 'col.title', render: (v) => pick(v.parameter, 'name') },
      { key: 'version', label: 'col.version', num: true },
      { label: 'col.value', num: true, render: (v) => `${v.value} ${v.parameter.unit}` },
      { key: 'source', label: 'col.source', class: 'small' },
      { label: 'col.notice_end', render: (v) => fmtDate(v.notice_end) },
      { label: '', render: (v) => objectButton(`${v.parameter_code} v${v.version}`, `/parameter-versions/${v.id}/objections`) },
    ], inNotice),
    formBox);
}

function objectionForm(box, subject, path) {
  const result = h('div');
  const el = form([
    { name: 'objector_name', label: 'notice.name', required: true, maxlength: 200 },
    { name: 'objector_contact', label: 'notice.contact', required: true, maxlength: 200 },
    { name: 'text', label: 'notice.text', type: 'textarea', required: true, maxlength: 4000 },
  ], async (values) => {
    const lodged = await api('POST', path, { body: values });
    mount(box, h('section', { class: 'card' }, showNotice(result, t('notice.lodged', { id: lodged.id }))));
  }, { submit: 'notice.object' });
  mount(box, h('section', { class: 'card' }, h('h2', {}, t('notice.object_to', { subject })), el, result));
  el.inputs.objector_name.focus();
}

// ---------------------------------------------------------------- issuances, retirements, revocations

export function issuanceTable(items) {
  return table([
    { label: 'col.batch', render: (b) => h('code', {}, b.batch_code) },
    { key: 'vintage', label: 'col.vintage', num: true },
    { label: 'col.quantity', num: true, render: (b) => fmtTonnes(b.quantity_t) },
    { label: 'col.serials', class: 'wrap-anywhere', render: (b) => h('code', {}, b.serial_block) },
    { label: 'col.project', render: (b) => h('a', { href: `#/projects/${b.project_id}` }, b.project_title) },
    { label: 'col.methodology', render: (b) => `${b.methodology_code || ''} v${b.methodology_version || ''}` },
    { label: 'col.period', render: (b) => periodOf(...b.monitoring_period) },
    { label: 'col.issued_at', render: (b) => fmtDate(b.issued_at) },
    { label: 'col.revoked', num: true, render: (b) => (b.revoked_t ? badge('revoked', fmtTonnes(b.revoked_t)) : '') },
  ], items);
}

async function issuancesPage(view) {
  const page = await api('GET', '/disclosure/issuances', { query: { limit: 200 } });
  const total = page.items.reduce((sum, b) => sum + b.quantity_t, 0);
  mount(view, heading('iss.title', 'iss.lead'),
    h('div', { class: 'stats' }, stat(fmtNumber(page.total), 'col.batch'), stat(fmtTonnes(total), 'col.quantity')),
    issuanceTable(page.items));
}

function stat(value, label) {
  return h('div', { class: 'stat' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, t(label)));
}

export function retirementTable(items, { extra = [] } = {}) {
  return table([
    { key: 'code', label: 'col.certificate', render: (r) => h('code', {}, r.code) },
    { key: 'beneficiary', label: 'col.beneficiary' },
    { label: 'col.purpose', render: (r) => [purposeLabel(r.purpose), r.details && r.details.event_name ? h('div', { class: 'muted small' }, r.details.event_name) : null] },
    { label: 'col.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
    { label: 'col.serials', class: 'wrap-anywhere', render: (r) => [r.serial_blocks.map((b) => h('div', {}, h('code', {}, b))),
      r.revoked_batches.length ? h('div', {}, badge('revoked', t('ret.flagged', { codes: r.revoked_batches.join(', ') }))) : null] },
    { label: 'col.status', render: (r) => badge(r.status) },
    { label: 'col.executed_at', render: (r) => fmtDateTime(r.executed_at) },
    ...extra,
    { label: '', render: (r) => (r.status === 'executed' ? certificateLinks(r) : '') },
  ], items);
}

async function retirementsPage(view) {
  const page = await api('GET', '/retirements', { query: { limit: 200 } });
  mount(view, heading('ret.title', 'ret.lead'), retirementTable(page.items));
}

async function revocationsPage(view) {
  const page = await api('GET', '/disclosure/revocations', { query: { limit: 200 } });
  mount(view, heading('rev.title', 'rev.lead'), table([
    { label: 'col.batch', render: (r) => h('code', {}, r.batch.batch_code) },
    { label: 'col.project', render: (r) => h('a', { href: `#/projects/${r.batch.project_id}` }, r.batch.project_title) },
    { label: 'col.quantity', num: true, render: (r) => fmtTonnes(r.quantity_t) },
    { key: 'reason', label: 'col.reason' },
    { key: 'notice', label: 'col.notice' },
    { label: 'col.date', render: (r) => fmtDate(r.created_at) },
  ], page.items));
}

// ---------------------------------------------------------------- serial lookup and certificates

async function serialPage(view, args) {
  const result = h('div', { class: 'serial-result' });
  const input = h('input', { type: 'search', name: 'serial', id: 'serial-input', maxlength: 40, value: args[0] || '',
    placeholder: t('home.serial_placeholder') });
  const search = h('form', { class: 'inline-form', role: 'search', onSubmit: (event) => {
    event.preventDefault();
    if (input.value.trim()) go(`#/serial/${encodeURIComponent(input.value.trim())}`);
  } }, input, h('button', { class: 'btn primary', type: 'submit' }, t('serial.submit')));
  mount(view, heading('serial.title', 'serial.lead'),
    h('section', { class: 'card' }, h('label', { for: 'serial-input' }, t('serial.label')), search), result);
  if (!args[0]) return;
  mount(result, loading());
  try {
    const life = await api('GET', `/serials/${encodeURIComponent(args[0])}`);
    mount(result, serialLife(life));
  } catch (err) {
    showProblem(result, err);
  }
}

function serialLife(life) {
  const retired = life.retirement;
  return h('div', { class: 'grid' },
    h('section', { class: 'card' },
      h('h2', {}, h('code', {}, life.serial_label), ' ', badge(life.status)),
      details([
        ['col.batch', h('code', {}, life.batch_code)],
        ['col.serials', h('code', {}, life.serial_block)],
        ['col.vintage', life.vintage],
        ['col.project', h('a', { href: `#/projects/${life.project_id}` }, `${life.project_title} (${life.project_code})`)],
        ['col.methodology', `${life.methodology_code} v${life.methodology_version} · ${life.methodology_title_zh || ''}`],
        ['col.filing', life.filing_code],
        ['col.period', periodOf(...life.monitoring_period)],
        ['col.issued_at', fmtDateTime(life.issued_at)],
        ['serial.holder_changes', fmtNumber(life.transferred_times)],
        ['serial.holders', fmtNumber(life.holders)],
        ['col.revoked', life.revoked_t ? fmtTonnes(life.revoked_t) : null],
      ]),
      retired ? [h('h3', {}, t('serial.retired_for')), details([
        ['col.certificate', h('code', {}, retired.code)],
        ['col.beneficiary', retired.beneficiary],
        ['col.purpose', purposeLabel(retired.purpose)],
        ['cert.details', detailText(retired.details)],
        ['col.executed_at', fmtDateTime(retired.executed_at)],
      ])] : null),
    h('section', { class: 'card' }, h('h2', {}, t('serial.life')),
      h('ol', { class: 'timeline' }, life.events.map((e) => h('li', {},
        h('time', {}, fmtDateTime(e.at)), h('strong', {}, t(`entry.${e.kind}`)), ' · ', badge(e.status), ' · ',
        t('serial.holder', { n: e.holder }), h('div', { class: 'muted small' }, h('code', {}, e.block)))))));
}

function detailText(detailsObject) {
  const entries = Object.entries(detailsObject || {}).filter(([, v]) => v !== '' && v !== null);
  if (!entries.length) return null;
  return h('ul', { class: 'plain' }, entries.map(([k, v]) => h('li', {}, `${t(`detail.${k}`)}: ${v}`)));
}

async function certificatePage(view, args) {
  const id = args[0];
  const cert = await api('GET', `/retirements/${encodeURIComponent(id || '0')}/certificate`);
  const r = cert.retirement;
  const executed = r.status === 'executed';
  mount(view, heading('cert.title'),
    h('section', { class: 'card' },
      executed ? h('p', { class: 'verified' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, '✓'), t('cert.verified'))
        : h('div', { class: 'warning' }, t('cert.not_executed')),
      details([
        ['cert.code', h('code', {}, cert.certificate)],
        ['cert.registry', cert.registry],
        ['col.beneficiary', r.beneficiary],
        ['col.purpose', purposeLabel(r.purpose)],
        ['cert.details', detailText(r.details)],
        ['col.quantity', fmtTonnes(r.quantity_t)],
        ['col.serials', r.serial_blocks.map((b) => h('div', {}, h('code', {}, b)))],
        ['col.status', badge(r.status)],
        ['col.executed_at', fmtDateTime(r.executed_at)],
        ['cert.issued_on', fmtDate(cert.issued_on)],
        ['col.revoked', r.revoked_batches.length ? badge('revoked', t('ret.flagged', { codes: r.revoked_batches.join(', ') })) : null],
      ]),
      executed ? h('p', {}, h('a', { class: 'btn primary', href: `/retirements/${r.id}/certificate.pdf`,
        download: `${r.code}.pdf` }, t('cert.download'))) : null),
    h('h2', {}, t('cert.sources')), issuanceTable(cert.sources));
}

// ---------------------------------------------------------------- violation reports (Art. 27)

function reportPage(view) {
  const result = h('div');
  const el = form([
    { name: 'reporter_name', label: 'report.name', maxlength: 100 },
    { name: 'reporter_contact', label: 'report.contact', maxlength: 200 },
    { name: 'subject', label: 'report.subject', required: true, maxlength: 300 },
    { name: 'details', label: 'report.details', type: 'textarea', required: true, maxlength: 8000, rows: 6,
      help: 'report.details_help' },
  ], async (values) => {
    const receipt = await api('POST', '/reports', { body: values });
    el.reset();
    mount(result, h('section', { class: 'card notice' },
      h('p', {}, t('report.receipt')), h('p', { class: 'receipt', id: 'receipt-token' }, receipt.receipt_token),
      h('p', {}, lang() === 'zh' ? receipt.message_zh : receipt.message_en),
      h('a', { class: 'btn primary', href: `#/report-status/${encodeURIComponent(receipt.receipt_token)}` }, t('report.follow'))));
  }, { submit: 'report.submit' });
  mount(view, heading('report.title', 'report.lead'), h('section', { class: 'card' }, el), result);
}

async function reportStatusPage(view, args) {
  const result = h('div');
  const el = form([
    { name: 'token', label: 'rstatus.token', required: true, maxlength: 64, value: args[0] || '', pattern: '[A-Za-z0-9_\\-]+' },
  ], async (values) => {
    go(`#/report-status/${encodeURIComponent(values.token)}`);
  }, { submit: 'rstatus.submit' });
  mount(view, heading('rstatus.title', 'rstatus.lead'), h('section', { class: 'card narrow' }, el), result);
  if (!args[0]) return;
  try {
    const report = await api('GET', `/reports/receipt/${encodeURIComponent(args[0])}`);
    mount(result, h('section', { class: 'card' },
      h('h2', {}, report.subject, ' ', badge(report.status)),
      details([
        ['rstatus.created', fmtDateTime(report.created_at)],
        ['rstatus.updated', fmtDateTime(report.updated_at)],
        ['rstatus.feedback', report.feedback || t('rstatus.none')],
      ])));
  } catch (err) {
    showProblem(result, err);
  }
}

// Labels shared with owner.js and review.js.
Object.assign(messages.zh, {
  'owner_kind.individual': '个人', 'owner_kind.household': '家庭', 'owner_kind.community': '社区',
  'owner_kind.micro': '微型企业', 'owner_kind.small': '小型企业', 'owner_kind.medium': '中型企业',
  'owner_kind.large': '大型企业', 'owner_kind.institution': '机关事业单位',
  'detail.event_name': '活动名称', 'detail.event_start': '开始日期', 'detail.event_end': '结束日期',
  'detail.event_place': '活动地点', 'detail.event_emissions_tco2e': '活动排放量（tCO2e）', 'detail.unit_name': '试点单位',
  'detail.case_reference': '案件编号', 'detail.note': '备注',
  'action.center_approve': '核证中心审核通过', 'action.center_reject': '核证中心驳回',
  'action.convene_experts': '提交专家评审', 'action.expert_approve': '专家评审通过', 'action.expert_reject': '专家评审驳回',
  'action.bureau_approve': '批准并公示', 'action.bureau_reject': '生态环境局驳回', 'action.register': '公示期满登记',
  'action.uphold_objection': '异议成立', 'action.issue': '签发',
});
Object.assign(messages.en, {
  'owner_kind.individual': 'Individual', 'owner_kind.household': 'Household', 'owner_kind.community': 'Community',
  'owner_kind.micro': 'Micro enterprise', 'owner_kind.small': 'Small enterprise', 'owner_kind.medium': 'Medium enterprise',
  'owner_kind.large': 'Large enterprise', 'owner_kind.institution': 'Public institution',
  'detail.event_name': 'Event', 'detail.event_start': 'Starts', 'detail.event_end': 'Ends',
  'detail.event_place': 'Place', 'detail.event_emissions_tco2e': 'Event emissions (tCO2e)', 'detail.unit_name': 'Pilot unit',
  'detail.case_reference': 'Case', 'detail.note': 'Note',
  'action.center_approve': 'Center approved', 'action.center_reject': 'Center rejected',
  'action.convene_experts': 'Sent to the experts', 'action.expert_approve': 'Experts approved', 'action.expert_reject': 'Experts rejected',
  'action.bureau_approve': 'Approved, notice started', 'action.bureau_reject': 'Bureau rejected', 'action.register': 'Registered after notice',
  'action.uphold_objection': 'Objection upheld', 'action.issue': 'Issued',
});

export default {
  messages,
  nav: [
    { hash: '#/methodologies', label: 'nav.methodologies', description: 'desc.methodologies', roles: null },
    { hash: '#/projects', label: 'nav.projects', description: 'desc.projects', roles: null },
    { hash: '#/notices', label: 'nav.notices', description: 'desc.notices', roles: null },
    { hash: '#/issuances', label: 'nav.issuances', description: 'desc.issuances', roles: null },
    { hash: '#/retirements', label: 'nav.retirements', description: 'desc.retirements', roles: null },
    { hash: '#/revocations', label: 'nav.revocations', description: 'desc.revocations', roles: null },
    { hash: '#/serial', label: 'nav.serial', description: 'desc.serial', roles: null },
    { hash: '#/report', label: 'nav.report', description: 'desc.report', roles: null },
    { hash: '#/report-status', label: 'nav.report_status', description: 'desc.report_status', roles: null },
  ],
  routes: {
    methodologies: methodologiesPage,
    projects: projectsPage,
    notices: noticesPage,
    issuances: issuancesPage,
    retirements: retirementsPage,
    revocations: revocationsPage,
    serial: serialPage,
    certificates: certificatePage,
    report: reportPage,
    'report-status': reportStatusPage,
  },
};
