// Event carbon neutrality (Art. 21, 24, 26, 28) and the emission-factor catalogue (Art. 11): the public list of
// neutral events and each statement; the organiser's events with the inventory form and its live calculation,
// "retire what is missing" in one step, and the declaration; the published factors with their citations.
import {
  api, badge, details, fmtDate, fmtDateTime, fmtNumber, fmtTonnes, form, go, h, hasAnyRole, heading, mount,
  showNotice, showProblem, table, t,
} from '../lib.js';

const SOURCES = ['venue_fuel', 'purchased_electricity', 'purchased_heat', 'service_vehicles', 'attendee_travel',
  'accommodation', 'catering', 'materials', 'waste'];
const EVENT_TYPES = ['performance', 'match', 'conference', 'forum', 'exhibition'];
const COUNTIES = [['330402', '南湖区 Nanhu'], ['330411', '秀洲区 Xiuzhou'], ['330421', '嘉善县 Jiashan'],
  ['330424', '海盐县 Haiyan'], ['330481', '海宁市 Haining'], ['330482', '平湖市 Pinghu'], ['330483', '桐乡市 Tongxiang']];

const messages = {
  zh: {
    'nav.events': '活动碳中和', 'desc.events': '已实现碳中和的大型活动及其碳中和声明；组织方登记活动、编制排放清单并注销抵销',
    'nav.factors': '排放因子库', 'desc.factors': '已发布的排放因子版本、来源与引用',
    'ev.title': '大型活动碳中和', 'ev.lead': '排放清单按向上取整的整吨数由注销的碳普惠减排量抵销；声明公开可查（第二十四条）。',
    'ev.public': '已实现碳中和的活动', 'ev.mine': '我组织的活动', 'ev.new': '登记活动', 'ev.csv': '下载 CSV',
    'ev.name': '活动名称', 'ev.type': '类型', 'ev.venue': '场馆', 'ev.county': '所在县（市、区）', 'ev.starts': '开始日期',
    'ev.ends': '结束日期', 'ev.attendees': '参加人数', 'ev.measures': '减排措施', 'ev.deadline': '中和期限',
    'ev.status': '状态', 'ev.total': '排放量', 'ev.counted': '已抵销', 'ev.shortfall': '尚缺', 'ev.statement': '碳中和声明',
    'ev.inventory': '排放清单', 'ev.source': '排放源', 'ev.activity': '活动', 'ev.quantity': '活动水平', 'ev.factor': '因子@版本',
    'ev.grams': '排放（克 CO2e）', 'ev.exclusions': '排除的排放源及理由', 'ev.offsets': '抵销', 'ev.retirement': '注销',
    'ev.calc': '试算', 'ev.record': '保存清单', 'ev.retire_missing': '注销所缺部分', 'ev.declare': '声明碳中和',
    'ev.lines_help': '每行一项：排放源, 活动, 数量；差旅写作 排放源, 活动, 距离km, 人数（往返）。',
    'ev.excl_help': '每行一项：排放源: 理由。', 'ev.trace': '追溯哈希', 'ev.serials': '序列号', 'ev.registries': '登记簿',
    'ev.assessor': '评定方', 'ev.conclusion': '结论', 'ev.pdf': '下载声明 PDF', 'ev.external': '外部（不计入）',
    'ev.counted_yes': '计入', 'ev.counted_no': '不计入',
    'evs.planned': '计划中', 'evs.held': '已举办', 'evs.inventoried': '已编制清单', 'evs.neutral': '已实现碳中和',
    'evs.overdue': '逾期未中和',
    'evt.performance': '演出', 'evt.match': '赛事', 'evt.conference': '会议', 'evt.forum': '论坛', 'evt.exhibition': '展览',
    'src.venue_fuel': '场馆化石燃料燃烧', 'src.purchased_electricity': '外购电力', 'src.purchased_heat': '外购热力',
    'src.service_vehicles': '活动保障车辆', 'src.attendee_travel': '参会人员交通', 'src.accommodation': '住宿',
    'src.catering': '餐饮', 'src.materials': '物料', 'src.waste': '废弃物处理',
    'ef.title': '排放因子库', 'ef.lead': '每个版本一经发布不再修改；计算记录所用因子@版本。标注“演示”的数值不是官方数值。',
    'ef.release': '版本', 'ef.code': '因子', 'ef.region': '地区', 'ef.year': '数据年份', 'ef.value': '数值（kg CO2e/单位）',
    'ef.unit': '单位', 'ef.from': '生效', 'ef.citation': '出处', 'ef.demo': '演示数据，非官方',
  },
  en: {
    'nav.events': 'Event neutrality', 'desc.events': 'Carbon-neutral events and their statements; organisers register events, record inventories and retire offsets',
    'nav.factors': 'Emission factors', 'desc.factors': 'Published emission-factor versions, sources and citations',
    'ev.title': 'Event carbon neutrality', 'ev.lead': 'An inventory rounded up to whole tonnes is offset by retired carbon-inclusive credits; statements are public (Art. 24).',
    'ev.public': 'Carbon-neutral events', 'ev.mine': 'My events', 'ev.new': 'Register an event', 'ev.csv': 'Download CSV',
    'ev.name': 'Event', 'ev.type': 'Type', 'ev.venue': 'Venue', 'ev.county': 'County', 'ev.starts': 'Starts',
    'ev.ends': 'Ends', 'ev.attendees': 'Attendees', 'ev.measures': 'Reduction measures', 'ev.deadline': 'Deadline',
    'ev.status': 'Status', 'ev.total': 'Emissions', 'ev.counted': 'Offset', 'ev.shortfall': 'Missing', 'ev.statement': 'Neutrality statement',
    'ev.inventory': 'Inventory', 'ev.source': 'Source', 'ev.activity': 'Activity', 'ev.quantity': 'Quantity', 'ev.factor': 'Factor@version',
    'ev.grams': 'Emissions (g CO2e)', 'ev.exclusions': 'Excluded sources and why', 'ev.offsets': 'Offsets', 'ev.retirement': 'Retirement',
    'ev.calc': 'Calculate', 'ev.record': 'Save inventory', 'ev.retire_missing': 'Retire what is missing', 'ev.declare': 'Declare neutral',
    'ev.lines_help': 'One per line: source, activity, quantity; travel as source, activity, distance km, persons (round trip).',
    'ev.excl_help': 'One per line: source: reason.', 'ev.trace': 'Trace hash', 'ev.serials': 'Serial numbers', 'ev.registries': 'Registries',
    'ev.assessor': 'Assessed by', 'ev.conclusion': 'Conclusion', 'ev.pdf': 'Download the statement (PDF)', 'ev.external': 'External (not counted)',
    'ev.counted_yes': 'counted', 'ev.counted_no': 'not counted',
    'evs.planned': 'Planned', 'evs.held': 'Held', 'evs.inventoried': 'Inventoried', 'evs.neutral': 'Carbon neutral',
    'evs.overdue': 'Overdue',
    'evt.performance': 'Performance', 'evt.match': 'Match', 'evt.conference': 'Conference', 'evt.forum': 'Forum', 'evt.exhibition': 'Exhibition',
    'src.venue_fuel': 'Venue fuel', 'src.purchased_electricity': 'Purchased electricity', 'src.purchased_heat': 'Purchased heat',
    'src.service_vehicles': 'Service vehicles', 'src.attendee_travel': "Attendees' travel", 'src.accommodation': 'Accommodation',
    'src.catering': 'Catering', 'src.materials': 'Materials', 'src.waste': 'Waste',
    'ef.title': 'Emission factors', 'ef.lead': 'A published version never changes; every calculation records the factor@version it used. Values marked demo are not official.',
    'ef.release': 'Release', 'ef.code': 'Factor', 'ef.region': 'Region', 'ef.year': 'Data year', 'ef.value': 'Value (kg CO2e/unit)',
    'ef.unit': 'Unit', 'ef.from': 'In force from', 'ef.citation': 'Source', 'ef.demo': 'demo data, not official',
  },
};

function statusBadge(e) {
  return e.replacement_needed ? badge('revoked', e.status_zh + ' / ' + e.status_en) : badge(e.status, `evs.${e.status}`);
}

function eventTable(events) {
  return table([
    { label: 'ev.name', render: (e) => h('a', { href: `#/events/${e.id}` }, e.name) },
    { label: 'ev.type', render: (e) => t(`evt.${e.event_type}`) },
    { label: 'ev.starts', render: (e) => `${fmtDate(e.starts_on)} – ${fmtDate(e.ends_on)}` },
    { label: 'ev.total', num: true, render: (e) => (e.inventory ? fmtTonnes(e.inventory.total_t) : null) },
    { label: 'ev.counted', num: true, render: (e) => fmtTonnes(e.counted_t) },
    { label: 'ev.status', render: statusBadge },
    { label: 'ev.statement', render: (e) => (e.statement_code ? h('a', { href: `#/events/${e.id}/statement` }, e.statement_code) : null) },
  ], events);
}

function parseLines(text) {
  // "source, activity, quantity" or "source, activity, distance, persons" (travel, round trip).
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const parts = line.split(/\s*[,，]\s*/);
    if (parts.length >= 4) {
      return { kind: 'travel', source: parts[0], activity: parts[1], distance_km: parts[2], persons: Number(parts[3]), round_trip: true };
    }
    return { kind: 'quantity', source: parts[0], activity: parts[1], quantity: parts[2] || '' };
  });
}

function parseExclusions(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.search(/[:：]/);
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function inventoryTable(inv) {
  return [
    table([
      { label: 'ev.source', render: (l) => t(`src.${l.source}`) },
      { label: 'ev.activity', key: 'activity' },
      { label: 'ev.quantity', num: true, render: (l) => `${l.quantity} ${l.unit}` },
      { label: 'ev.factor', render: (l) => h('code', {}, l.factor) },
      { label: 'ev.grams', num: true, render: (l) => fmtNumber(l.emissions_g) },
    ], inv.lines),
    details([
      ['ev.total', `${fmtNumber(inv.total_g)} g → ${fmtTonnes(inv.total_t)}`],
      ['ev.exclusions', Object.entries(inv.exclusions).map(([k, v]) => h('div', {}, `${t(`src.${k}`)}: ${v}`))],
      ['ev.trace', h('code', {}, inv.trace_hash)],
    ]),
  ];
}

async function eventsPage(view, args) {
  if (args[0] && args[1] === 'statement') return statementPage(view, args[0]);
  if (args[0]) return eventPage(view, args[0]);
  const [neutral, mine] = await Promise.all([api('GET', '/events'),
    hasAnyRole(['owner', 'trader']) ? api('GET', '/events', { query: { mine: true } }) : Promise.resolve(null)]);
  const parts = [heading('ev.title', 'ev.lead'),
    h('section', { class: 'card' }, h('h2', {}, t('ev.public')), eventTable(neutral),
      h('p', {}, h('a', { class: 'btn', href: '/disclosure/event-neutrality.csv', download: 'event-neutrality.csv' }, t('ev.csv'))))];
  if (mine) {
    const created = h('div');
    parts.push(h('section', { class: 'card' }, h('h2', {}, t('ev.mine')), eventTable(mine)),
      h('section', { class: 'card' }, h('h2', {}, t('ev.new')), created, form([
        { name: 'name', label: 'ev.name', required: true, maxlength: 200 },
        { name: 'event_type', label: 'ev.type', type: 'select', required: true,
          options: EVENT_TYPES.map((v) => ({ value: v, label: `evt.${v}` })) },
        { name: 'venue', label: 'ev.venue', required: true, maxlength: 200 },
        { name: 'venue_county', label: 'ev.county', type: 'select', required: true,
          options: COUNTIES.map(([v, label]) => ({ value: v, label })) },
        { name: 'starts_on', label: 'ev.starts', type: 'date', required: true },
        { name: 'ends_on', label: 'ev.ends', type: 'date', required: true },
        { name: 'attendees', label: 'ev.attendees', type: 'number', required: true, min: 0 },
        { name: 'reduction_measures', label: 'ev.measures', type: 'textarea', maxlength: 4000 },
      ], async (values) => {
        const event = await api('POST', '/events', { body: { ...values, attendees: Number(values.attendees) } });
        go(`#/events/${event.id}`);
      })));
  }
  mount(view, ...parts);
}

async function eventPage(view, id) {
  const e = await api('GET', `/events/${encodeURIComponent(id)}`);
  const mine = hasAnyRole(['owner', 'trader']) && (await api('GET', '/events', { query: { mine: true } })).some((x) => x.id === e.id);
  const notice = h('div');
  const parts = [h('h1', {}, e.name), notice,
    h('section', { class: 'card' }, details([
      ['ev.status', statusBadge(e)], ['ev.type', t(`evt.${e.event_type}`)], ['ev.venue', `${e.venue} (${e.venue_county})`],
      ['ev.starts', `${fmtDate(e.starts_on)} – ${fmtDate(e.ends_on)}`], ['ev.attendees', fmtNumber(e.attendees)],
      ['ev.deadline', fmtDate(e.deadline)], ['ev.measures', e.reduction_measures],
      ['ev.total', e.inventory ? fmtTonnes(e.inventory.total_t) : null], ['ev.counted', fmtTonnes(e.counted_t)],
      ['ev.shortfall', fmtTonnes(e.shortfall_t)],
      ['ev.statement', e.statement_code ? h('a', { href: `#/events/${e.id}/statement` }, e.statement_code) : null],
    ]))];
  if (e.inventory) parts.push(h('section', { class: 'card' }, h('h2', {}, t('ev.inventory')), inventoryTable(e.inventory)));
  parts.push(h('section', { class: 'card' }, h('h2', {}, t('ev.offsets')), table([
    { label: 'ev.retirement', render: (o) => o.retirement_code || `${o.external_registry}: ${o.external_serials}` },
    { label: 'ev.counted', num: true, render: (o) => fmtTonnes(o.quantity_t) },
    { label: 'ev.status', render: (o) => (o.kind === 'external' ? t('ev.external') : t(o.counted ? 'ev.counted_yes' : 'ev.counted_no')) },
    { label: 'ev.serials', render: (o) => o.serial_blocks.map((b) => h('div', {}, h('code', {}, b))) },
  ], e.offsets)));
  if (mine && e.status !== 'neutral') {
    const live = h('div', { class: 'calc-result' });
    const linesInput = h('textarea', { name: 'lines', rows: 6, 'aria-label': t('ev.inventory') });
    const exclInput = h('textarea', { name: 'exclusions', rows: 5, 'aria-label': t('ev.exclusions') },
      SOURCES.map((s) => `${s}: `).join('\n'));
    const body = () => ({ activities: parseLines(linesInput.value), exclusions: parseExclusions(exclInput.value) });
    const calc = h('button', { type: 'button', class: 'btn', onClick: async () => {
      try {
        const result = await api('POST', '/event-inventories/calculation',
          { body: { ...body(), venue_county: e.venue_county, on: e.starts_on } });
        mount(live, inventoryTable(result));
      } catch (err) { showProblem(live, err); }
    } }, t('ev.calc'));
    const save = h('button', { type: 'button', class: 'btn primary', onClick: async () => {
      try {
        await api('POST', `/events/${e.id}/inventory`, { body: body() });
        go(`#/events/${e.id}?saved=${Date.now()}`);
      } catch (err) { showProblem(live, err); }
    } }, t('ev.record'));
    parts.push(h('section', { class: 'card inventory-form' }, h('h2', {}, t('ev.inventory')),
      h('p', { class: 'help' }, t('ev.lines_help')), linesInput, h('p', { class: 'help' }, t('ev.excl_help')), exclInput,
      h('div', { class: 'actions' }, calc, save), live));
    const act = (label, path) => h('button', { type: 'button', class: 'btn primary', onClick: async () => {
      try {
        await api('POST', path, { body: path.endsWith('assessment') ? {} : undefined });
        go(`#/events/${e.id}?at=${Date.now()}`);
      } catch (err) { showProblem(notice, err); }
    } }, t(label));
    parts.push(h('section', { class: 'card' }, h('div', { class: 'actions' },
      e.inventory && e.shortfall_t > 0 ? act('ev.retire_missing', `/events/${e.id}/shortfall-retirement`) : null,
      e.inventory ? act('ev.declare', `/events/${e.id}/assessment`) : null)));
  } else if (mine && e.replacement_needed) {
    parts.push(h('section', { class: 'card' }, h('button', { type: 'button', class: 'btn primary', onClick: async () => {
      try {
        await api('POST', `/events/${e.id}/shortfall-retirement`);
        go(`#/events/${e.id}?at=${Date.now()}`);
      } catch (err) { showProblem(notice, err); }
    } }, t('ev.retire_missing'))));
  }
  mount(view, ...parts);
  if (e.neutrality_violations.length && e.inventory && e.status !== 'neutral') {
    showNotice(notice, e.neutrality_violations.map((v) => `${v.code} ${v.message_zh} / ${v.message_en}`).join('\n'));
  }
}

async function statementPage(view, id) {
  const s = await api('GET', `/events/${encodeURIComponent(id)}/statement`);
  const e = s.event;
  mount(view, h('h1', {}, `${s.title_zh} · ${s.title_en}`),
    h('section', { class: 'card statement' },
      e.replacement_needed ? h('div', { class: 'warning' }, `${e.status_zh} · ${e.status_en}`)
        : h('p', { class: 'verified' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, '✓'), `${s.statement_code}`),
      details([
        ['ev.name', `${e.name} (${s.event_type_zh} / ${s.event_type_en})`],
        ['ev.starts', `${fmtDate(e.starts_on)} – ${fmtDate(e.ends_on)}`],
        ['ev.venue', `${e.venue} (${e.venue_county})`],
        ['ev.exclusions', Object.entries(e.inventory.exclusions).map(([k, v]) => h('div', {}, `${t(`src.${k}`)}: ${v}`))],
        ['ev.total', `${fmtNumber(e.inventory.total_g)} g → ${fmtTonnes(e.inventory.total_t)}`],
        ['ev.measures', e.reduction_measures],
        ['ev.retirement', s.retirements.map((c) => h('div', {}, h('code', {}, c)))],
        ['ev.serials', s.serial_blocks.map((b) => h('div', {}, h('code', {}, b)))],
        ['ev.assessor', s.assessor],
        ['ev.conclusion', [h('div', {}, s.conclusion_zh), h('div', {}, s.conclusion_en)]],
        ['ev.statement', fmtDateTime(e.declared_at)],
      ]),
      table([
        { label: 'ev.source', render: (r) => `${r.source_zh} / ${r.source_en}` },
        { label: 'ev.grams', num: true, render: (r) => fmtNumber(r.emissions_g) },
      ], s.tonnes_by_source),
      table([
        { label: 'ev.factor', render: (f) => h('code', {}, f.factor) },
        { label: 'ef.citation', key: 'citation' },
      ], s.factors),
      h('p', {}, h('a', { class: 'btn primary', href: `/events/${e.id}/statement.pdf`, download: `${s.statement_code}.pdf` }, t('ev.pdf')))));
}

async function factorsPage(view) {
  const releases = await api('GET', '/factor-releases');
  mount(view, heading('ef.title', 'ef.lead'), releases.map((r) => h('section', { class: 'card' },
    h('h2', {}, `${t('ef.release')} ${r.number} · ${r.title}`, ' ', badge(r.status), r.demo ? [' ', badge('revoked', 'ef.demo')] : null),
    table([
      { label: 'ef.code', render: (f) => h('code', {}, f.label) },
      { label: 'ev.activity', render: (f) => `${f.name_zh} / ${f.name_en}` },
      { label: 'ef.region', key: 'region' },
      { label: 'ef.year', key: 'data_year' },
      { label: 'ef.value', num: true, key: 'value_kg' },
      { label: 'ef.unit', key: 'unit' },
      { label: 'ef.from', render: (f) => fmtDate(f.effective_from) },
      { label: 'ef.citation', key: 'citation' },
    ], r.factors),
    h('p', {}, h('a', { class: 'btn', href: `/factor-releases/${r.number}/factors.csv`, download: `factor-release-${r.number}.csv` }, 'CSV'),
      ' ', h('a', { class: 'btn', href: `/factor-releases/${r.number}` }, 'JSON')))));
}

export default {
  messages,
  nav: [
    { hash: '#/events', label: 'nav.events', description: 'desc.events', roles: null },
    { hash: '#/factors', label: 'nav.factors', description: 'desc.factors', roles: null },
  ],
  routes: { events: eventsPage, factors: factorsPage },
};
