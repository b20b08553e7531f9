// Owner pages: my projects (drafts, the Art. 12–13 eligibility check, submission), my filings along the
// review flow with what is missing and the next step, the filing form with document upload and the live
// calculation table, and my holdings by serial block.
import {
  api, apiAll, badge, details, fmtDate, fmtTonnes, form, go, goSoon, h, heading, mount, pick,
  refuseUnlessRole, session, showNotice, showProblem, table, t, uploadDocument,
} from '../lib.js';
import { calculator, counties, historyList, projectTable, traceTable } from './public.js';

const messages = {
  zh: {
    'nav.my_projects': '我的项目',
    'nav.my_filings': '我的减排量备案',
    'nav.filing_new': '申报减排量',
    'nav.holdings': '我的持有',
    'desc.my_projects': '登记项目、检查合规条件、提交登记',
    'desc.my_filings': '每份备案的审核进度与待办事项',
    'desc.filing_new': '填写监测数据、上传核算报告，实时计算减排量',
    'desc.holdings': '按序列号段查看持有的减排量',
    'mp.title': '我的项目',
    'mp.lead': '项目草稿仅您可见。提交前可检查是否符合第十二、十三条的全部条件。',
    'mp.new': '新建项目草稿',
    'mp.check': '检查合规',
    'mp.submit': '提交登记',
    'mp.eligible': '符合全部条件，可以提交登记。',
    'mp.not_eligible': '尚不符合以下条件：',
    'mp.registered': '项目已登记：{code}',
    'mp.saved': '草稿已保存。',
    'mp.methodology': '方法学（已登记版本）',
    'mp.title_field': '项目名称',
    'mp.description': '项目说明',
    'mp.county': '所在区县',
    'mp.address': '地址',
    'mp.industry': '行业代码（GB/T 4754-2017 四位）',
    'mp.owner_kind': '主体类型',
    'mp.crediting_start': '计入期开始',
    'mp.crediting_end': '计入期结束',
    'mp.obligation': '负有法定减排义务',
    'mp.assets': '资产标识（每行一个，如电表号、车牌号）',
    'mf.title': '我的减排量备案',
    'mf.lead': '备案依次经过核证机构核证、申请备案、核证中心审核、（专家评审、）市生态环境局审批、公示、登记与签发。',
    'mf.next': '下一步',
    'mf.detail': '备案详情',
    'mf.documents': '已附文件',
    'mf.calculation': '计算表',
    'mf.history': '审核记录',
    'mf.commission': '委托核证机构',
    'mf.verifier': '核证机构',
    'mf.commissioned': '已委托核证机构。',
    'mf.apply': '申请备案',
    'mf.apply_lead': '上传第十六条要求的申请材料（核算报告和核证表已附）。',
    'mf.applied': '已提交备案申请，编号 {code}。',
    'mf.rejection': '驳回原因',
    'mf.issued_link': '查看签发与持有',
    'todo.draft': '请委托一家核证机构（不得为报告编制方或本单位）。',
    'todo.commissioned': '等待核证机构出具核证表。',
    'todo.verified': '请上传申请材料并申请备案。',
    'todo.submitted': '等待核证中心审核。',
    'todo.center_approved': '等待市生态环境局审批或组织专家评审。',
    'todo.expert_review': '专家委员会评审中。',
    'todo.expert_approved': '等待市生态环境局审批。',
    'todo.public_notice': '公示中，至 {date} 截止。',
    'todo.registered': '已登记，等待签发。',
    'todo.issued': '已签发，减排量已进入您的账户。',
    'todo.rejected': '已驳回，可修改后重新申报。',
    'doc.accounting_report': '核算报告',
    'doc.verification_statement': '核证表',
    'doc.application_letter': '备案申请函',
    'doc.application_form': '备案申请表',
    'doc.supporting_evidence': '证明材料',
    'fn.title': '申报减排量',
    'fn.lead': '选择已登记的项目，填写监测期和监测数据；系统按监测期开始日有效的参数版本计算减排量并保存计算表（第十四条）。',
    'fn.project': '项目',
    'fn.start': '监测期开始',
    'fn.end': '监测期结束',
    'fn.report': '核算报告（PDF 等）',
    'fn.submit': '保存申报',
    'fn.no_project': '您还没有已登记的项目。',
    'fn.need_calc': '请填写全部监测数据。',
    'hold.title': '我的持有',
    'hold.lead': '每个账户按批次与序列号段列出减排量；冻结部分用于挂单或待执行的注销。',
    'hold.account': '账户',
    'hold.block': '序列号段',
    'hold.bucket': '状态',
    'hold.total': '合计',
  },
  en: {
    'nav.my_projects': 'My projects',
    'nav.my_filings': 'My filings',
    'nav.filing_new': 'File reductions',
    'nav.holdings': 'My holdings',
    'desc.my_projects': 'Register projects, check eligibility, submit',
    'desc.my_filings': 'Where each filing is in the review flow, and what is missing',
    'desc.filing_new': 'Monitoring data and report, with the live calculation',
    'desc.holdings': 'Your credits by serial block',
    'mp.title': 'My projects',
    'mp.lead': 'Drafts are yours alone. Before submitting, check them against every condition of Art. 12–13.',
    'mp.new': 'New project draft',
    'mp.check': 'Check eligibility',
    'mp.submit': 'Submit for registration',
    'mp.eligible': 'Meets every condition; ready to submit.',
    'mp.not_eligible': 'Not yet eligible:',
    'mp.registered': 'Project registered: {code}',
    'mp.saved': 'Draft saved.',
    'mp.methodology': 'Methodology (registered version)',
    'mp.title_field': 'Project title',
    'mp.description': 'Description',
    'mp.county': 'County',
    'mp.address': 'Address',
    'mp.industry': 'Industry code (GB/T 4754-2017, four digits)',
    'mp.owner_kind': 'Owner kind',
    'mp.crediting_start': 'Crediting from',
    'mp.crediting_end': 'Crediting to',
    'mp.obligation': 'Has a legal reduction obligation',
    'mp.assets': 'Asset identifiers (one a line: meter or plate numbers)',
    'mf.title': 'My filings',
    'mf.lead': 'A filing is verified, applied for, reviewed by the center (and the experts), approved by the bureau, noticed, registered and issued.',
    'mf.next': 'Next step',
    'mf.detail': 'Filing',
    'mf.documents': 'Documents',
    'mf.calculation': 'Calculation table',
    'mf.history': 'Review history',
    'mf.commission': 'Commission a verifier',
    'mf.verifier': 'Verifier',
    'mf.commissioned': 'Verifier commissioned.',
    'mf.apply': 'Apply for filing',
    'mf.apply_lead': 'Upload the Art. 16 application documents (the report and the statement are attached already).',
    'mf.applied': 'Applied; filing code {code}.',
    'mf.rejection': 'Reason for rejection',
    'mf.issued_link': 'See issuance and holdings',
    'todo.draft': 'Commission a verifier (not the report’s preparer, not yourself).',
    'todo.commissioned': 'Waiting for the verifier’s statement.',
    'todo.verified': 'Upload the application documents and apply.',
    'todo.submitted': 'Waiting for the certification center.',
    'todo.center_approved': 'Waiting for the bureau (or its experts).',
    'todo.expert_review': 'Under expert review.',
    'todo.expert_approved': 'Waiting for the bureau’s approval.',
    'todo.public_notice': 'In public notice until {date}.',
    'todo.registered': 'Registered; waiting for issuance.',
    'todo.issued': 'Issued; the credits are in your account.',
    'todo.rejected': 'Rejected; you may file a corrected period.',
    'doc.accounting_report': 'Accounting report',
    'doc.verification_statement': 'Verification statement',
    'doc.application_letter': 'Application letter',
    'doc.application_form': 'Application form',
    'doc.supporting_evidence': 'Supporting evidence',
    'fn.title': 'File reductions',
    'fn.lead': 'Pick a registered project and enter the monitoring period and data; the reduction is computed with the parameters in force at the period’s start and the table is kept (Art. 14).',
    'fn.project': 'Project',
    'fn.start': 'Monitoring from',
    'fn.end': 'Monitoring to',
    'fn.report': 'Accounting report (PDF or similar)',
    'fn.submit': 'Save filing',
    'fn.no_project': 'You have no registered project yet.',
    'fn.need_calc': 'Fill in every monitoring input.',
    'hold.title': 'My holdings',
    'hold.lead': 'Each account lists its credits by batch and serial block; held credits back an order or a pending retirement.',
    'hold.account': 'Account',
    'hold.block': 'Serial block',
    'hold.bucket': 'Status',
    'hold.total': 'Total',
  },
};

const OWNER = ['owner'];
const FLOW = ['draft', 'commissioned', 'verified', 'submitted', 'center_approved', 'public_notice', 'registered', 'issued'];

/** The review flow as steps, the current one marked (experts shown only when they were convened). */
export function flowSteps(status, history = []) {
  const steps = FLOW.slice();
  if (['expert_review', 'expert_approved'].includes(status) || history.some((a) => a.to_state === 'expert_review')) {
    steps.splice(steps.indexOf('public_notice'), 0, 'expert_review', 'expert_approved');
  }
  const lastReached = status === 'rejected' ? (history.length ? history[history.length - 1].from_state : 'submitted') : status;
  const at = steps.indexOf(lastReached);
  return h('ol', { class: 'steps', 'aria-label': t('col.status') }, steps.map((step, i) => {
    let cls = null;
    if (i < at) cls = 'done';
    if (i === at) cls = status === 'rejected' ? 'failed' : 'current';
    return h('li', { class: cls }, i === at && status === 'rejected' ? t('status.rejected') : t(`status.${step}`));
  }));
}

function todo(filing) {
  return t(`todo.${filing.status}`, { date: fmtDate(filing.notice_end) });
}

// ---------------------------------------------------------------- my projects

async function myProjectsPage(view, args) {
  if (refuseUnlessRole(view, OWNER)) return;
  const [projects, names, methodologies] = await Promise.all([apiAll('/projects', { mine: true }), counties(),
    api('GET', '/methodologies', { query: { status: 'registered', limit: 200 } })]);
  const versions = Object.fromEntries(methodologies.items.map((v) => [v.id, v]));
  const focus = args[0] ? projects.find((p) => String(p.id) === args[0]) : null;
  mount(view, heading('mp.title', 'mp.lead'),
    h('div', { class: 'toolbar' }, h('a', { class: 'btn primary', href: '#/my-projects/new' }, t('mp.new'))),
    projectTable(projects, names, versions, (p) => `#/my-projects/${p.id}`),
    args[0] === 'new' ? projectForm(methodologies.items, names) : null,
    focus ? projectCard(focus, versions) : null);
}

function projectCard(project, versions) {
  const result = h('div');
  const version = versions[project.methodology_version_id];
  const check = async () => {
    const answer = await api('GET', `/projects/${project.id}/eligibility`);
    if (answer.eligible) showNotice(result, t('mp.eligible'));
    else mount(result, h('div', { class: 'warning' }, t('mp.not_eligible'), h('ul', {}, answer.violations.map((v) =>
      h('li', {}, h('code', { class: 'rule' }, v.code), ' ', pick(v, 'message'), v.field ? h('span', { class: 'muted' }, ` (${v.field})`) : null)))));
  };
  const guard = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      showProblem(result, err);
    }
  };
  const card = h('section', { class: 'card', id: 'project-card' },
    h('h2', {}, project.title, ' ', badge(project.status)),
    details([
      ['col.code', project.code],
      ['col.methodology', version ? `${version.code} v${version.version}` : `#${project.methodology_version_id}`],
      ['col.crediting', `${fmtDate(project.crediting_start)} ~ ${fmtDate(project.crediting_end)}`],
      ['proj.assets', project.asset_identifiers.join(t('common.list_sep'))],
    ]),
    project.status === 'draft' ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn', onClick: guard(check) }, t('mp.check')),
      h('button', { type: 'button', class: 'btn primary', onClick: guard(async () => {
        const registered = await api('POST', `/projects/${project.id}/submit`);
        showNotice(result, t('mp.registered', { code: registered.code }));
        goSoon(`#/my-projects/${project.id}`, 600);
      }) }, t('mp.submit'))) : null,
    result);
  if (project.status === 'draft') check().catch((err) => showProblem(result, err));
  return card;
}

function projectForm(versions, names) {
  const kinds = ['individual', 'household', 'community', 'micro', 'small', 'medium', 'large', 'institution'];
  const el = form([
    { name: 'methodology_version_id', label: 'mp.methodology', type: 'select', required: true,
      options: versions.map((v) => ({ value: v.id, label: `${v.code} v${v.version} · ${pick(v, 'title')}` })) },
    { name: 'title', label: 'mp.title_field', required: true, maxlength: 200 },
    { name: 'county_code', label: 'mp.county', type: 'select', required: true,
      options: Object.entries(names).map(([code, name]) => ({ value: code, label: name })) },
    { name: 'address', label: 'mp.address', maxlength: 300 },
    { name: 'industry_code', label: 'mp.industry', required: true, pattern: '[0-9]{4}', maxlength: 4 },
    { name: 'owner_kind', label: 'mp.owner_kind', type: 'select', required: true,
      options: kinds.map((k) => ({ value: k, label: `owner_kind.${k}` })) },
    { name: 'crediting_start', label: 'mp.crediting_start', type: 'date', required: true },
    { name: 'crediting_end', label: 'mp.crediting_end', type: 'date', required: true },
    { name: 'asset_identifiers', label: 'mp.assets', type: 'textarea', required: true, rows: 3 },
    { name: 'description', label: 'mp.description', type: 'textarea', maxlength: 4000, rows: 3 },
    { name: 'legal_reduction_obligation', label: 'mp.obligation', type: 'checkbox' },
  ], async (values) => {
    const draft = await api('POST', '/projects', { body: {
      ...values,
      methodology_version_id: Number(values.methodology_version_id),
      asset_identifiers: values.asset_identifiers.split('\n').map((s) => s.trim()).filter(Boolean),
    } });
    go(`#/my-projects/${draft.id}`);
  }, { submit: 'mp.new', class: 'wide' });
  return h('section', { class: 'card', id: 'project-form' }, h('h2', {}, t('mp.new')), el);
}

// ---------------------------------------------------------------- my filings

async function myFilingsPage(view, args) {
  if (refuseUnlessRole(view, OWNER)) return;
  if (args[0]) return filingPage(view, args[0]);
  const [filings, projects] = await Promise.all([apiAll('/filings', { mine: true }), apiAll('/projects', { mine: true })]);
  const titles = Object.fromEntries(projects.map((p) => [p.id, p.title]));
  const own = filings.filter((f) => titles[f.project_id] !== undefined);
  mount(view, heading('mf.title', 'mf.lead'),
    h('div', { class: 'toolbar' }, h('a', { class: 'btn primary', href: '#/filing-new' }, t('nav.filing_new'))),
    table([
      { label: 'col.filing', render: (f) => h('a', { href: `#/my-filings/${f.id}` }, f.code || `#${f.id}`) },
      { label: 'col.project', render: (f) => titles[f.project_id] },
      { label: 'col.period', render: (f) => `${fmtDate(f.monitoring_start)} ~ ${fmtDate(f.monitoring_end)}` },
      { label: 'col.claimed', num: true, render: (f) => fmtTonnes(f.calculated_tco2e) },
      { label: 'col.verified', num: true, render: (f) => fmtTonnes(f.verified_tco2e) },
      { label: 'col.status', render: (f) => badge(f.status) },
      { label: 'mf.next', render: (f) => todo(f) },
    ], own));
}

async function filingPage(view, id) {
  const [filing, history] = await Promise.all([api('GET', `/filings/${encodeURIComponent(id)}`),
    api('GET', `/filings/${encodeURIComponent(id)}/history`)]);
  const project = await api('GET', `/projects/${filing.project_id}`);
  const mine = session && session.user && project.owner_participant_id === session.user.participant_id;
  const step = h('div');
  if (mine && filing.status === 'draft') step.append(await commissionForm(filing));
  if (mine && filing.status === 'verified') step.append(await applyForm(filing));
  mount(view, h('p', {}, h('a', { href: '#/my-filings' }, `← ${t('nav.my_filings')}`)),
    h('h1', {}, t('mf.detail'), ' ', filing.code || `#${filing.id}`, ' ', badge(filing.status)),
    flowSteps(filing.status, history),
    h('div', { class: filing.status === 'rejected' ? 'problem' : 'notice' }, h('strong', {}, `${t('mf.next')}: `), todo(filing),
      filing.rejection_reason ? h('p', {}, `${t('mf.rejection')}: ${filing.rejection_reason}`) : null,
      filing.status === 'issued' ? h('p', {}, h('a', { href: '#/holdings' }, t('mf.issued_link'))) : null),
    step,
    h('div', { class: 'split' },
      h('section', { class: 'card' }, h('h2', {}, t('mf.calculation')), traceTable(filing.calculation)),
      h('div', {},
        h('section', { class: 'card' }, details([
          ['col.project', h('a', { href: `#/projects/${project.id}` }, project.title)],
          ['col.period', `${fmtDate(filing.monitoring_start)} ~ ${fmtDate(filing.monitoring_end)}`],
          ['col.claimed', fmtTonnes(filing.calculated_tco2e)],
          ['col.verified', fmtTonnes(filing.verified_tco2e)],
          ['col.reason', filing.verification_reason],
          ['col.notice_end', filing.notice_end ? fmtDate(filing.notice_end) : null],
        ]), h('h3', {}, t('mf.documents')), documentList(filing.documents)),
        h('section', { class: 'card' }, h('h2', {}, t('mf.history')), historyList(history)))));
}

/** The documents of a filing: kind, and for insiders a link that downloads the file with the bearer token. */
export function documentList(documents) {
  if (!documents.length) return h('p', { class: 'muted' }, t('common.empty'));
  return h('ul', { class: 'documents' }, documents.map((d) => h('li', {}, t(`doc.${d.kind}`),
    d.sha256 ? [' ', h('button', { type: 'button', class: 'btn link small', onClick: () => downloadDocument(d) },
      h('code', {}, d.sha256.slice(0, 12)))] : null)));
}

async function downloadDocument(doc) {
  const response = await api('GET', `/documents/${doc.sha256}`, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: `${doc.kind}-${doc.sha256.slice(0, 12)}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function commissionForm(filing) {
  const verifiers = await api('GET', '/reference/verifiers');
  const el = form([
    { name: 'verifier_participant_id', label: 'mf.verifier', type: 'select', required: true,
      options: verifiers.map((v) => ({ value: v.participant_id, label: v.name })) },
  ], async (values) => {
    await api('POST', `/filings/${filing.id}/commission`, { body: { verifier_participant_id: Number(values.verifier_participant_id) } });
    go(`#/my-filings/${filing.id}`);
  }, { submit: 'mf.commission' });
  return h('section', { class: 'card', id: 'commission' }, h('h2', {}, t('mf.commission')), el);
}

async function applyForm(filing) {
  const rules = await api('GET', '/rule-sets/in-force');
  const present = new Set(filing.documents.map((d) => d.kind));
  const kinds = rules.required_filing_documents.filter((k) => !['accounting_report', 'verification_statement'].includes(k));
  const el = form(kinds.map((kind) => ({ name: kind, label: `doc.${kind}`, type: 'file', required: !present.has(kind) })),
    async (values) => {
      const documents = [];
      for (const kind of kinds) {
        if (values[kind]) documents.push({ kind, sha256: (await uploadDocument(values[kind])).sha256 });
      }
      const applied = await api('POST', `/filings/${filing.id}/apply`, { body: { documents } });
      showNotice(el.status, t('mf.applied', { code: applied.code }));
      goSoon(`#/my-filings/${filing.id}`, 600);
    }, { submit: 'mf.apply' });
  return h('section', { class: 'card', id: 'apply' }, h('h2', {}, t('mf.apply')), h('p', { class: 'muted' }, t('mf.apply_lead')), el);
}

// ---------------------------------------------------------------- the filing form

async function filingNewPage(view, args) {
  if (refuseUnlessRole(view, OWNER)) return;
  const projects = (await apiAll('/projects', { mine: true })).filter((p) => p.status === 'registered');
  if (!projects.length) {
    mount(view, heading('fn.title', 'fn.lead'), h('p', { class: 'card' }, t('fn.no_project'), ' ',
      h('a', { href: '#/my-projects/new' }, t('mp.new'))));
    return;
  }
  const chosen = projects.find((p) => String(p.id) === args[0]) || projects[0];
  const version = await api('GET', `/methodology-versions/${chosen.methodology_version_id}`);
  const calc = calculator(version, { dateField: false });
  const el = form([
    { name: 'project_id', label: 'fn.project', type: 'select', required: true, value: String(chosen.id),
      options: projects.map((p) => ({ value: String(p.id), label: `${p.code} · ${p.title}` })) },
    { name: 'monitoring_start', label: 'fn.start', type: 'date', required: true },
    { name: 'monitoring_end', label: 'fn.end', type: 'date', required: true },
    { name: 'report', label: 'fn.report', type: 'file', required: true },
  ], async (values) => {
    const current = calc.values();
    if (!current) throw new Error(t('fn.need_calc'));
    const report = await uploadDocument(values.report);
    const filing = await api('POST', '/filings', { body: {
      project_id: Number(values.project_id), monitoring_start: values.monitoring_start, monitoring_end: values.monitoring_end,
      inputs: current.inputs, report_sha256: report.sha256, report_preparer_participant_id: session.user.participant_id,
    } });
    go(`#/my-filings/${filing.id}`);
  }, { submit: 'fn.submit' });
  el.inputs.project_id.addEventListener('change', () => go(`#/filing-new/${el.inputs.project_id.value}`));
  el.inputs.monitoring_start.addEventListener('input', () => calc.setOn(el.inputs.monitoring_start.value));
  el.insertBefore(h('div', { class: 'field' }, h('label', {}, `${t('mf.calculation')} · ${version.code} v${version.version}`), calc.el), el.status);
  mount(view, heading('fn.title', 'fn.lead'), h('section', { class: 'card' }, el));
}

// ---------------------------------------------------------------- holdings

async function holdingsPage(view) {
  if (refuseUnlessRole(view, ['owner', 'trader'])) return;
  const accounts = await api('GET', '/accounts');
  const sections = await Promise.all(accounts.map(async (account) => {
    const blocks = await api('GET', `/accounts/${account.id}/holdings`);
    const total = blocks.reduce((sum, b) => sum + b.quantity_t, 0);
    return h('section', { class: 'card' },
      h('h2', {}, t('hold.account'), ' ', h('code', {}, account.code), ' ', h('span', { class: 'muted' }, account.label)),
      table([
        { label: 'hold.block', class: 'wrap-anywhere', render: (b) => h('a', { href: `#/serial/${b.block_id.split('-').slice(0, 4).join('-')}` }, h('code', {}, b.block_id)) },
        { label: 'col.batch', num: true, key: 'batch_id' },
        { label: 'col.quantity', num: true, render: (b) => fmtTonnes(b.quantity_t) },
        { label: 'hold.bucket', render: (b) => badge(b.bucket) },
      ], blocks),
      h('p', {}, h('strong', {}, `${t('hold.total')}: ${fmtTonnes(total)}`)));
  }));
  mount(view, heading('hold.title', 'hold.lead'), sections);
}

export default {
  messages,
  nav: [
    { hash: '#/my-projects', label: 'nav.my_projects', description: 'desc.my_projects', roles: ['owner'] },
    { hash: '#/my-filings', label: 'nav.my_filings', description: 'desc.my_filings', roles: ['owner'] },
    { hash: '#/filing-new', label: 'nav.filing_new', description: 'desc.filing_new', roles: ['owner'] },
    { hash: '#/holdings', label: 'nav.holdings', description: 'desc.holdings', roles: ['owner', 'trader'] },
  ],
  routes: {
    'my-projects': myProjectsPage,
    'my-filings': myFilingsPage,
    'filing-new': filingNewPage,
    holdings: holdingsPage,
  },
};
