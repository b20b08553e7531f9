// Review pages for the certification center, the expert committee and the bureau (and the verifier's
// statements): queues, the calculation trace beside the documents, approve / reject with comments,
// issuance, public-notice objections, revocation (Art. 26), and the violation reports lodged in confidence
// (Art. 27), which only the bureau reads.
import {
  api, apiAll, badge, details, fmtDate, fmtDateTime, fmtTonnes, form, goSoon, h, hasRole, heading, mount, pick,
  refuseUnlessRole, showNotice, showProblem, table, t, uploadDocument,
} from '../lib.js';
import { documentList, flowSteps } from './owner.js';
import { historyList, issuanceTable, traceTable } from './public.js';

const messages = {
  zh: {
    'nav.review': '审核队列',
    'nav.objections': '异议裁定',
    'nav.revocation': '收回减排量',
    'nav.reports': '举报处理',
    'desc.review': '待您审核的方法学与减排量备案',
    'desc.objections': '公示期异议的裁定',
    'desc.revocation': '收回以虚假材料取得的减排量',
    'desc.reports': '受理、调查并答复违规举报（第二十七条）',
    'rv.title': '审核队列',
    'rv.lead': '只列出您的角色现在可以处理的事项。',
    'rv.filings': '减排量备案',
    'rv.methodologies': '方法学',
    'rv.verify': '待核证的备案',
    'rv.open': '审核',
    'rv.comment': '审核意见',
    'rv.comment_help': '驳回时必须写明理由。',
    'rv.done': '已处理：{action}。',
    'rv.definition': '方法学定义',
    'rv.issue_note': '签发整吨数（向下取整），并生成序列号段。',
    'rv.notice_wait': '公示期至 {date}；期满且无未裁定异议方可登记。',
    'rv.verified_tco2e': '核证减排量（tCO2e）',
    'rv.statement': '核证表',
    'rv.reason': '核证说明（低于申报量时必填）',
    'rv.submit_verification': '提交核证表',
    'rv.verification_done': '核证表已提交。',
    'rv.side_docs': '申报材料',
    'ob.title': '异议裁定',
    'ob.lead': '异议成立则公示对象被驳回；不成立则可在公示期满后登记。',
    'ob.objector': '异议人',
    'ob.contact': '联系方式',
    'ob.text': '异议内容',
    'ob.lodged': '提出时间',
    'ob.ruling': '裁定理由',
    'ob.uphold': '异议成立',
    'ob.dismiss': '异议不成立',
    'ob.ruled': '已裁定。',
    'ob.open': '待裁定',
    'ob.ruled_list': '已裁定',
    'ob.subject.filing': '减排量备案',
    'ob.subject.methodology_version': '方法学版本',
    'ob.subject.parameter_version': '参数版本',
    'rk.title': '收回减排量',
    'rk.lead': '对以虚假材料取得的减排量，市生态环境局予以收回并公告，业主被取消资格（第二十六条）。已注销的部分不再收回，但证书标注。',
    'rk.form_title': '收回 {batch}',
    'rk.quantity': '收回数量（吨，不填则收回全部未注销部分）',
    'rk.reason': '收回理由',
    'rk.notice': '公告内容',
    'rk.submit': '收回',
    'rk.done': '已收回 {q}。',
    'rk.choose': '收回',
    'rp.title': '举报处理',
    'rp.lead': '举报人的姓名与联系方式仅本局可见，须予保密（第二十七条）。转入调查或办结时填写的反馈，举报人凭回执码可见；办结须有反馈，办结后不能再更改。',
    'rp.open': '待处理',
    'rp.closed': '已办结',
    'rp.reporter': '举报人',
    'rp.contact': '联系方式',
    'rp.anonymous': '匿名',
    'rp.subject': '举报对象',
    'rp.details': '举报内容',
    'rp.lodged': '受理时间',
    'rp.updated': '最近更新',
    'rp.feedback': '给举报人的反馈',
    'rp.feedback_now': '已给出的反馈',
    'rp.feedback_help': '举报人凭回执码可见；不填则保留已给出的反馈。',
    'rp.investigate': '转入调查',
    'rp.update': '更新反馈',
    'rp.close': '办结',
    'rp.done': '已更新。',
  },
  en: {
    'nav.review': 'Review queue',
    'nav.objections': 'Objections',
    'nav.revocation': 'Revoke credits',
    'nav.reports': 'Violation reports',
    'desc.review': 'Methodologies and filings waiting for you',
    'desc.objections': 'Rule on objections lodged during notices',
    'desc.revocation': 'Take back credits issued on false material',
    'desc.reports': 'Receive, investigate and answer violation reports (Art. 27)',
    'rv.title': 'Review queue',
    'rv.lead': 'Only what your roles can act on now.',
    'rv.filings': 'Reduction filings',
    'rv.methodologies': 'Methodologies',
    'rv.verify': 'Filings to verify',
    'rv.open': 'Review',
    'rv.comment': 'Comments',
    'rv.comment_help': 'A rejection needs its reasons.',
    'rv.done': 'Done: {action}.',
    'rv.definition': 'Methodology definition',
    'rv.issue_note': 'Issues whole tonnes (rounded down) as one serial block.',
    'rv.notice_wait': 'Notice until {date}; register after it ends with no open objection.',
    'rv.verified_tco2e': 'Verified reduction (tCO2e)',
    'rv.statement': 'Verification statement',
    'rv.reason': 'Reasons (required below the claim)',
    'rv.submit_verification': 'Submit the statement',
    'rv.verification_done': 'Statement submitted.',
    'rv.side_docs': 'Filed documents',
    'ob.title': 'Objections',
    'ob.lead': 'An upheld objection rejects its subject; a dismissed one lets it be registered after the notice.',
    'ob.objector': 'Objector',
    'ob.contact': 'Contact',
    'ob.text': 'Objection',
    'ob.lodged': 'Lodged',
    'ob.ruling': 'Ruling and reasons',
    'ob.uphold': 'Uphold',
    'ob.dismiss': 'Dismiss',
    'ob.ruled': 'Ruled.',
    'ob.open': 'Open',
    'ob.ruled_list': 'Ruled',
    'ob.subject.filing': 'Filing',
    'ob.subject.methodology_version': 'Methodology version',
    'ob.subject.parameter_version': 'Parameter version',
    'rk.title': 'Revoke credits',
    'rk.lead': 'The bureau takes back credits obtained with false material, publishes a notice and disqualifies the owner (Art. 26). Retired tonnes stay retired but their certificates are flagged.',
    'rk.form_title': 'Revoke {batch}',
    'rk.quantity': 'Tonnes (empty: every unretired tonne)',
    'rk.reason': 'Reason',
    'rk.notice': 'Public notice',
    'rk.submit': 'Revoke',
    'rk.done': 'Revoked {q}.',
    'rk.choose': 'Revoke',
    'rp.title': 'Violation reports',
    'rp.lead': 'Who reported, and how to reach them, is for the bureau alone and kept confidential (Art. 27). The feedback given when a report goes to investigation or is closed is what the reporter reads with the receipt token; closing needs feedback, and a closed report no longer changes.',
    'rp.open': 'To handle',
    'rp.closed': 'Closed',
    'rp.reporter': 'Reporter',
    'rp.contact': 'Contact',
    'rp.anonymous': 'anonymous',
    'rp.subject': 'Who or what',
    'rp.details': 'What happened',
    'rp.lodged': 'Received',
    'rp.updated': 'Last change',
    'rp.feedback': 'Feedback to the reporter',
    'rp.feedback_now': 'Feedback given',
    'rp.feedback_help': 'The reporter reads it with the receipt token; left empty, the feedback given before stays.',
    'rp.investigate': 'Investigate',
    'rp.update': 'Update feedback',
    'rp.close': 'Close',
    'rp.done': 'Updated.',
  },
};

const REVIEWERS = ['center', 'expert', 'bureau'];
const IN_REVIEW = ['submitted', 'center_approved', 'expert_review', 'expert_approved', 'public_notice', 'registered'];
// Upholding an objection goes through the objection's ruling, never a button of its own.
const BUTTONS = (actions) => actions.filter((a) => a !== 'uphold_objection');

// ---------------------------------------------------------------- queues

async function reviewPage(view, args) {
  if (refuseUnlessRole(view, [...REVIEWERS, 'verifier'])) return;
  if (args[0] === 'filing' && args[1]) return filingReview(view, args[1]);
  if (args[0] === 'methodology' && args[1]) return methodologyReview(view, args[1]);
  const reviewer = REVIEWERS.some(hasRole);
  const [filings, versions, toVerify] = await Promise.all([
    reviewer ? Promise.all(IN_REVIEW.map((status) => apiAll('/filings', { status }))).then((l) => l.flat()) : [],
    reviewer ? Promise.all(IN_REVIEW.slice(0, 5).map((status) => apiAll('/methodologies', { status }))).then((l) => l.flat()) : [],
    hasRole('verifier') ? apiAll('/filings', { mine: true, status: 'commissioned' }) : [],
  ]);
  const mine = filings.filter((f) => BUTTONS(f.allowed_actions).length);
  const versionsMine = versions.filter((v) => BUTTONS(v.allowed_actions).length);
  mount(view, heading('rv.title', 'rv.lead'),
    toVerify.length || !reviewer ? [h('h2', {}, t('rv.verify')), filingQueue(toVerify)] : null,
    reviewer ? [h('h2', {}, t('rv.filings')), filingQueue(mine),
      h('h2', {}, t('rv.methodologies')), table([
        { label: 'col.code', render: (v) => h('a', { href: `#/review/methodology/${v.id}` }, `${v.code} v${v.version}`) },
        { label: 'col.title', render: (v) => pick(v, 'title') },
        { label: 'col.field', render: (v) => t(`field.${v.field}`) },
        { label: 'col.status', render: (v) => badge(v.status) },
        { label: 'col.notice_end', render: (v) => fmtDate(v.notice_end) },
        { label: '', render: (v) => h('a', { class: 'btn small primary', href: `#/review/methodology/${v.id}` }, t('rv.open')) },
      ], versionsMine)] : null);
}

function filingQueue(filings) {
  return table([
    { label: 'col.filing', render: (f) => h('a', { href: `#/review/filing/${f.id}` }, f.code || `#${f.id}`) },
    { label: 'col.project', render: (f) => h('a', { href: `#/projects/${f.project_id}` }, `#${f.project_id}`) },
    { label: 'col.period', render: (f) => `${fmtDate(f.monitoring_start)} ~ ${fmtDate(f.monitoring_end)}` },
    { label: 'col.claimed', num: true, render: (f) => fmtTonnes(f.calculated_tco2e) },
    { label: 'col.verified', num: true, render: (f) => fmtTonnes(f.verified_tco2e) },
    { label: 'col.status', render: (f) => badge(f.status) },
    { label: '', render: (f) => h('a', { class: 'btn small primary', href: `#/review/filing/${f.id}` }, t('rv.open')) },
  ], filings);
}

// ---------------------------------------------------------------- one filing

async function filingReview(view, id) {
  const [filing, history] = await Promise.all([api('GET', `/filings/${encodeURIComponent(id)}`),
    api('GET', `/filings/${encodeURIComponent(id)}/history`)]);
  const project = await api('GET', `/projects/${filing.project_id}`);
  const actions = BUTTONS(filing.allowed_actions);
  const verifying = filing.status === 'commissioned' && hasRole('verifier');
  mount(view, h('p', {}, h('a', { href: '#/review' }, `← ${t('nav.review')}`)),
    h('h1', {}, t('col.filing'), ' ', filing.code || `#${filing.id}`, ' ', badge(filing.status)),
    flowSteps(filing.status, history),
    h('div', { class: 'split review-split' },
      h('section', { class: 'card' }, h('h2', {}, t('mf.calculation')), details([
        ['col.project', h('a', { href: `#/projects/${project.id}` }, `${project.code || ''} ${project.title}`)],
        ['col.owner', project.owner_name],
        ['col.period', `${fmtDate(filing.monitoring_start)} ~ ${fmtDate(filing.monitoring_end)}`],
        ['col.claimed', fmtTonnes(filing.calculated_tco2e)],
        ['col.verified', fmtTonnes(filing.verified_tco2e)],
        ['col.reason', filing.verification_reason],
        ['proj.assets', project.asset_identifiers.join(t('common.list_sep'))],
      ]), traceTable(filing.calculation)),
      h('div', { class: 'sticky' },
        h('section', { class: 'card' }, h('h2', {}, t('rv.side_docs')), documentList(filing.documents)),
        verifying ? verificationForm(filing) : null,
        actions.length ? actionCard(filing, actions, (action, comment) => (action === 'issue'
          ? api('POST', `/filings/${filing.id}/issue`, { body: { comment } })
          : api('POST', `/filings/${filing.id}/review`, { body: { action, comment } })), `#/review/filing/${filing.id}`) : null,
        h('section', { class: 'card' }, h('h2', {}, t('mf.history')), historyList(history)))));
}

/** A text box and one button per outcome; run(outcome, text) resolves to the note shown before going back. */
function decision(id, label, outcomes, run, back, help = null) {
  const text = h('textarea', { id, rows: 3, maxlength: 4000 });
  const status = h('div');
  const buttons = outcomes.map(([outcome, buttonLabel, kind]) => h('button', {
    type: 'button', class: ['btn', kind], 'data-action': outcome,
    onClick: async () => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        showNotice(status, await run(outcome, text.value.trim()));
        goSoon(back, 700);
      } catch (err) {
        showProblem(status, err);
        buttons.forEach((b) => { b.disabled = false; });
      }
    },
  }, t(buttonLabel)));
  return h('div', { class: 'decision' },
    h('div', { class: 'field' }, h('label', { for: id }, t(label)), text, help ? h('small', { class: 'help' }, t(help)) : null),
    h('div', { class: 'actions' }, buttons), status);
}

/** The review steps the flow allows the caller now, with a comment box. */
function actionCard(subject, actions, run, back) {
  return h('section', { class: 'card', id: 'review-actions' }, h('h2', {}, t('rv.open')),
    subject.status === 'public_notice' ? h('p', { class: 'muted' }, t('rv.notice_wait', { date: fmtDate(subject.notice_end) })) : null,
    actions.includes('issue') ? h('p', { class: 'muted' }, t('rv.issue_note')) : null,
    decision('review-comment', 'rv.comment', actions.map((a) => [a, `action.${a}`, /reject/.test(a) ? 'danger' : 'primary']),
      async (action, comment) => {
        await run(action, comment);
        return t('rv.done', { action: t(`action.${action}`) });
      }, back, 'rv.comment_help'));
}

function verificationForm(filing) {
  const el = form([
    { name: 'verified_tco2e', label: 'rv.verified_tco2e', type: 'decimal', required: true, value: filing.calculated_tco2e },
    { name: 'statement', label: 'rv.statement', type: 'file', required: true },
    { name: 'reason', label: 'rv.reason', type: 'textarea', maxlength: 4000, rows: 2 },
  ], async (values) => {
    const statement = await uploadDocument(values.statement);
    await api('POST', `/filings/${filing.id}/verification`, { body: {
      verified_tco2e: values.verified_tco2e, statement_sha256: statement.sha256, reason: values.reason || null } });
    showNotice(el.status, t('rv.verification_done'));
    goSoon(`#/review/filing/${filing.id}`, 600);
  }, { submit: 'rv.submit_verification' });
  return h('section', { class: 'card', id: 'verification' }, h('h2', {}, t('rv.submit_verification')), el);
}

// ---------------------------------------------------------------- one methodology version

async function methodologyReview(view, id) {
  const [version, history] = await Promise.all([api('GET', `/methodology-versions/${encodeURIComponent(id)}`),
    api('GET', `/methodology-versions/${encodeURIComponent(id)}/history`)]);
  const def = version.definition;
  mount(view, h('p', {}, h('a', { href: '#/review' }, `← ${t('nav.review')}`)),
    h('h1', {}, pick(version, 'title'), ' ', badge(version.status)),
    h('p', { class: 'lead' }, h('code', {}, `${version.code} v${version.version}`), ' · ', t(`field.${version.field}`)),
    h('div', { class: 'split review-split' },
      h('section', { class: 'card' }, h('h2', {}, t('rv.definition')), h('p', {}, pick(def, 'description')),
        h('h3', {}, t('meth.inputs')), table([
          { label: 'col.code', render: (i) => h('code', {}, i.name) },
          { label: 'col.title', render: (i) => pick(i, 'label') },
          { key: 'unit', label: 'col.unit' },
        ], def.inputs),
        h('h3', {}, t('meth.definition')), table([
          { label: 'col.step', render: (s) => pick(s, 'label') },
          { label: 'col.expression', class: 'expr', render: (s) => h('code', {}, s.expression) },
          { key: 'unit', label: 'col.unit' },
        ], def.calculation),
        h('h3', {}, t('meth.uses')), h('p', {}, def.parameters.map((p) => h('code', {}, `${p} `)))),
      h('div', { class: 'sticky' },
        BUTTONS(version.allowed_actions).length ? actionCard(version, BUTTONS(version.allowed_actions),
          (action, comment) => api('POST', `/methodology-versions/${version.id}/review`, { body: { action, comment } }),
          `#/review/methodology/${version.id}`) : null,
        h('section', { class: 'card' }, h('h2', {}, t('meth.history')), historyList(history)))));
}

// ---------------------------------------------------------------- objections (bureau)

async function objectionsPage(view) {
  if (refuseUnlessRole(view, ['bureau'])) return;
  const [open, all] = await Promise.all([apiAll('/objections', { status: 'open' }), api('GET', '/objections', { query: { limit: 100 } })]);
  const subjectLink = (o) => {
    const label = `${t(`ob.subject.${o.subject_type}`)} #${o.subject_id}`;
    if (o.subject_type === 'filing') return h('a', { href: `#/review/filing/${o.subject_id}` }, label);
    if (o.subject_type === 'methodology_version') return h('a', { href: `#/review/methodology/${o.subject_id}` }, label);
    return label;
  };
  mount(view, heading('ob.title', 'ob.lead'),
    h('h2', {}, t('ob.open')),
    open.length ? open.map((o) => h('section', { class: 'card', 'data-objection': o.id },
      h('h3', {}, subjectLink(o), ' ', badge(o.status)),
      details([
        ['ob.objector', o.objector_name], ['ob.contact', o.objector_contact], ['ob.lodged', fmtDateTime(o.lodged_at)],
        ['ob.text', o.text],
      ]),
      decision(`ruling-${o.id}`, 'ob.ruling', [['dismiss', 'ob.dismiss', 'primary'], ['uphold', 'ob.uphold', 'danger']],
        async (outcome, ruling) => {
          await api('POST', `/objections/${o.id}/ruling`, { body: { uphold: outcome === 'uphold', ruling } });
          return t('ob.ruled');
        }, '#/objections'))) : h('p', { class: 'muted' }, t('common.empty')),
    h('h2', {}, t('ob.ruled_list')),
    table([
      { label: 'col.subject', render: subjectLink },
      { key: 'objector_name', label: 'ob.objector' },
      { key: 'text', label: 'ob.text' },
      { label: 'col.status', render: (o) => badge(o.status) },
      { key: 'ruling', label: 'ob.ruling' },
      { label: 'col.date', render: (o) => fmtDateTime(o.ruled_at) },
    ], all.items.filter((o) => o.status !== 'open')));
}

// ---------------------------------------------------------------- revocation (bureau)

async function revocationPage(view, args) {
  if (refuseUnlessRole(view, ['bureau'])) return;
  const issued = await apiAll('/disclosure/issuances');
  const chosen = args[0] ? issued.find((b) => String(b.batch_id) === args[0]) : null;
  const table_ = issuanceTable(issued);
  const rows = table_.querySelectorAll('tbody tr');
  issued.forEach((b, i) => {
    if (rows[i]) rows[i].append(h('td', {}, h('a', { class: 'btn small danger', href: `#/revocation/${b.batch_id}` }, t('rk.choose'))));
  });
  const head = table_.querySelector('thead tr');
  if (head && issued.length) head.append(h('th', {}, ''));
  mount(view, heading('rk.title', 'rk.lead'), table_, chosen ? revokeForm(chosen) : null);
}

function revokeForm(batch) {
  const el = form([
    { name: 'quantity_t', label: 'rk.quantity', type: 'number', min: 1, max: batch.quantity_t },
    { name: 'reason', label: 'rk.reason', type: 'textarea', required: true, rows: 2, maxlength: 2000 },
    { name: 'notice', label: 'rk.notice', type: 'textarea', required: true, rows: 3, maxlength: 4000 },
  ], async (values) => {
    const done = await api('POST', `/batches/${batch.batch_id}/revocations`, { body: {
      quantity_t: values.quantity_t ? Number(values.quantity_t) : null, reason: values.reason, notice: values.notice } });
    showNotice(el.status, t('rk.done', { q: fmtTonnes(done.quantity_t) }));
    goSoon('#/revocations', 900);
  }, { submit: 'rk.submit' });
  return h('section', { class: 'card', id: 'revoke' }, h('h2', {}, t('rk.form_title', { batch: batch.batch_code })), el);
}

// ---------------------------------------------------------------- violation reports (bureau, Art. 27)

async function reportsPage(view) {
  if (refuseUnlessRole(view, ['bureau'])) return;
  const [received, investigating, closed] = await Promise.all([
    apiAll('/reports', { status: 'received' }), apiAll('/reports', { status: 'investigating' }),
    api('GET', '/reports', { query: { status: 'closed', limit: 100 } })]);
  const open = [...received, ...investigating];
  mount(view, heading('rp.title', 'rp.lead'),
    h('h2', {}, t('rp.open')),
    open.length ? open.map((r) => h('section', { class: 'card', 'data-report': r.id },
      h('h3', {}, `#${r.id} `, r.subject, ' ', badge(r.status)),
      details([
        ['rp.reporter', r.reporter_name || t('rp.anonymous')], ['rp.contact', r.reporter_contact],
        ['rp.lodged', fmtDateTime(r.created_at)], ['rp.updated', fmtDateTime(r.updated_at)],
        ['rp.details', r.details], r.feedback ? ['rp.feedback_now', r.feedback] : null,
      ]),
      decision(`feedback-${r.id}`, 'rp.feedback', [
        ['investigating', r.status === 'received' ? 'rp.investigate' : 'rp.update', 'primary'],
        ['closed', 'rp.close', 'danger']],
      async (status, feedback) => {
        await api('POST', `/reports/${r.id}`, { body: { status, feedback } });
        return t('rp.done');
      }, '#/reports', 'rp.feedback_help'))) : h('p', { class: 'muted' }, t('common.empty')),
    h('h2', {}, t('rp.closed')),
    table([
      { label: 'rp.subject', render: (r) => `#${r.id} ${r.subject}` },
      { label: 'rp.reporter', render: (r) => r.reporter_name || t('rp.anonymous') },
      { key: 'feedback', label: 'rp.feedback' },
      { label: 'rp.updated', render: (r) => fmtDateTime(r.updated_at) },
    ], closed.items));
}

export default {
  messages,
  nav: [
    { hash: '#/review', label: 'nav.review', description: 'desc.review', roles: ['center', 'expert', 'bureau', 'verifier'] },
    { hash: '#/objections', label: 'nav.objections', description: 'desc.objections', roles: ['bureau'] },
    { hash: '#/revocation', label: 'nav.revocation', description: 'desc.revocation', roles: ['bureau'] },
    { hash: '#/reports', label: 'nav.reports', description: 'desc.reports', roles: ['bureau'] },
  ],
  routes: {
    review: reviewPage,
    objections: objectionsPage,
    revocation: revocationPage,
    reports: reportsPage,
  },
};
