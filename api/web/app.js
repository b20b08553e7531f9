// The portal's shell: hash router, login and logout, role-based navigation, language switch, home page.
// Page modules (pages/*.js) each default-export {messages, nav, routes}; they are loaded from PAGES below.
import {
  addMessages, api, form, go, h, hasAnyRole, hashQuery, heading, lang, leavePage, loading, mount, session,
  setLang, setSession, showProblem, t,
} from './lib.js';

const PAGES = ['public', 'owner', 'review', 'trading', 'operator', 'events', 'points'];

const CORE = {
  messages: {
    zh: {
      'app.title': '嘉兴碳普惠登记与交易',
      'app.subtitle': '嘉兴市碳普惠减排量登记簿与交易平台',
      'app.menu': '菜单',
      'app.footer': '依据《嘉兴市碳普惠建设管理办法（试行）》（嘉碳普惠办〔2023〕3号）。日期为北京时间。',
      'lang.switch': 'English',
      'lang.switch_title': 'Switch to English',
      'nav.public': '公开信息',
      'nav.work': '我的工作',
      'nav.home': '首页',
      'nav.login': '登录',
      'nav.logout': '退出',
      'login.title': '登录',
      'login.lead': '业主、交易商、核证中心、专家、生态环境局与运营中心用户请登录。公开信息无需登录。',
      'login.username': '用户名',
      'login.password': '密码',
      'login.submit': '登录',
      'home.title': '嘉兴碳普惠登记与交易',
      'home.lead': '碳普惠减排量从方法学、项目、备案、签发到交易与注销的全过程公开可查。',
      'home.welcome': '欢迎，{name}（{org}）',
      'home.serial': '查询序列号',
      'home.serial_placeholder': '如 JXCI-2025-B000001-0000000001',
      'home.go': '查询',
      'home.public': '公开信息',
      'home.work': '我的工作',
      'common.empty': '暂无记录',
      'common.loading': '加载中…',
      'common.submit': '提交',
      'common.cancel': '取消',
      'common.back': '返回',
      'common.view': '查看',
      'common.yes': '是',
      'common.no': '否',
      'common.list_sep': '、',
      'common.more': '更多',
      'notfound.title': '页面不存在',
      'notfound.lead': '地址 {hash} 没有对应的页面。',
      'access.login_needed': '请先登录',
      'access.forbidden': '无权访问',
      'access.roles': '此页面供以下角色使用：{roles}。',
      'role.admin': '平台管理员',
      'role.owner': '项目业主',
      'role.verifier': '核证机构',
      'role.center': '核证中心',
      'role.expert': '专家委员会',
      'role.bureau': '市生态环境局',
      'role.operator': '运营管理中心',
      'role.trader': '交易商',
      'problem.0': '无法连接服务器',
      'problem.400': '请求有误',
      'problem.401': '需要登录',
      'problem.403': '无权操作',
      'problem.404': '未找到',
      'problem.409': '当前状态不允许此操作',
      'problem.413': '文件过大',
      'problem.415': '不支持的文件类型',
      'problem.422': '输入有误',
      'problem.429': '请求过于频繁',
      'problem.500': '服务器内部错误',
      'problem.503': '服务暂不可用',
      'problem.network': '无法连接服务器',
      'problem.network_detail': '请检查网络后重试。',
      'problem.unexpected': '发生意外错误',
      'problem.request_id': '请求编号：{id}',
      'form.required': '此项必填',
      'form.required_file': '请选择文件',
      'form.decimal': '请输入数字（最多 10 位小数）',
      'form.integer': '请输入整数',
      'form.min': '不能小于 {min}',
      'form.max': '不能大于 {max}',
      'form.date': '请输入日期（年-月-日）',
      'form.pattern': '格式不正确',
      'form.maxlength': '最多 {max} 个字符',
    },
    en: {
      'app.title': 'Jiaxing Carbon-Inclusive Registry & Exchange',
      'app.subtitle': 'The registry and exchange of Jiaxing carbon-inclusive credits',
      'app.menu': 'Menu',
      'app.footer': 'Under the Jiaxing Carbon-Inclusive Construction Management Measures (Trial). Times are China Standard Time.',
      'lang.switch': '中文',
      'lang.switch_title': '切换到中文',
      'nav.public': 'Public information',
      'nav.work': 'My work',
      'nav.home': 'Home',
      'nav.login': 'Log in',
      'nav.logout': 'Log out',
      'login.title': 'Log in',
      'login.lead': 'For owners, traders, the certification center, experts, the bureau and the operations center. Public information needs no login.',
      'login.username': 'Username',
      'login.password': 'Password',
      'login.submit': 'Log in',
      'home.title': 'Jiaxing carbon-inclusive registry and exchange',
      'home.lead': 'Every carbon-inclusive credit, from methodology, project and filing to issuance, trade and retirement, in the open.',
      'home.welcome': 'Welcome, {name} ({org})',
      'home.serial': 'Look up a serial number',
      'home.serial_placeholder': 'e.g. JXCI-2025-B000001-0000000001',
      'home.go': 'Look up',
      'home.public': 'Public information',
      'home.work': 'My work',
      'common.empty': 'Nothing here yet',
      'common.loading': 'Loading…',
      'common.submit': 'Submit',
      'common.cancel': 'Cancel',
      'common.back': 'Back',
      'common.view': 'View',
      'common.yes': 'Yes',
      'common.no': 'No',
      'common.list_sep': ', ',
      'common.more': 'More',
      'notfound.title': 'Page not found',
      'notfound.lead': 'There is no page at {hash}.',
      'access.login_needed': 'Please log in',
      'access.forbidden': 'Not allowed',
      'access.roles': 'This page is for: {roles}.',
      'role.admin': 'Administrator',
      'role.owner': 'Project owner',
      'role.verifier': 'Verifier',
      'role.center': 'Certification center',
      'role.expert': 'Expert committee',
      'role.bureau': 'Environment bureau',
      'role.operator': 'Operations center',
      'role.trader': 'Trader',
      'problem.0': 'Cannot reach the server',
      'problem.400': 'Bad request',
      'problem.401': 'Login needed',
      'problem.403': 'Not allowed',
      'problem.404': 'Not found',
      'problem.409': 'Not possible in the current state',
      'problem.413': 'Too large',
      'problem.415': 'Unsupported file type',
      'problem.422': 'Invalid input',
      'problem.429': 'Too many requests',
      'problem.500': 'Internal server error',
      'problem.503': 'Service unavailable',
      'problem.network': 'Cannot reach the server',
      'problem.network_detail': 'Check the connection and try again.',
      'problem.unexpected': 'Something went wrong',
      'problem.request_id': 'Request id: {id}',
      'form.required': 'Required',
      'form.required_file': 'Choose a file',
      'form.decimal': 'Enter a number (up to 10 decimals)',
      'form.integer': 'Enter a whole number',
      'form.min': 'At least {min}',
      'form.max': 'At most {max}',
      'form.date': 'Enter a date (YYYY-MM-DD)',
      'form.pattern': 'Wrong format',
      'form.maxlength': 'At most {max} characters',
    },
  },
  nav: [{ hash: '#/home', label: 'nav.home', roles: null }],
  routes: { login: loginPage, home: homePage },
};

const routes = {};
let navEntries = [];

function register(module) {
  addMessages(module.messages || {});
  Object.assign(routes, module.routes || {});
  navEntries = navEntries.concat(module.nav || []);
}

function visibleNav() {
  return navEntries.filter((entry) => !entry.roles || (session && hasAnyRole(entry.roles)));
}

// ---------------------------------------------------------------- pages of the shell

function loginPage(view) {
  const next = hashQuery().get('next') || '#/home';
  const box = form([
    { name: 'username', label: 'login.username', required: true, maxlength: 64, autocomplete: 'username' },
    { name: 'password', label: 'login.password', type: 'password', required: true, maxlength: 200,
      autocomplete: 'current-password' },
  ], async (values) => {
    const answer = await api('POST', '/auth/login', { body: values });
    setSession({ token: answer.access_token, user: null });
    const user = await api('GET', '/auth/me');
    setSession({ token: answer.access_token, user });
    renderChrome();
    go(next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/home');
  }, { submit: 'login.submit', class: 'login-form' });
  mount(view, h('section', { class: 'card narrow' }, heading('login.title', 'login.lead'), box));
  box.inputs.username.focus();
}

function tiles(entries) {
  return h('ul', { class: 'tiles' }, entries.filter((e) => e.hash !== '#/home').map((entry) => h('li', {},
    h('a', { href: entry.hash, class: 'tile' }, h('span', { class: 'tile-title' }, t(entry.label)),
      entry.description ? h('span', { class: 'tile-text' }, t(entry.description)) : null))));
}

function homePage(view) {
  const entries = visibleNav();
  const serial = h('input', { type: 'search', name: 'serial', placeholder: t('home.serial_placeholder'),
    'aria-label': t('home.serial'), maxlength: 40 });
  const lookup = h('form', { class: 'inline-form', role: 'search', onSubmit: (event) => {
    event.preventDefault();
    if (serial.value.trim()) go(`#/serial/${encodeURIComponent(serial.value.trim())}`);
  } }, serial, h('button', { class: 'btn primary', type: 'submit' }, t('home.go')));
  const user = session && session.user;
  mount(view,
    h('section', { class: 'hero' }, heading('home.title', 'home.lead'),
      user ? h('p', { class: 'welcome' }, t('home.welcome', { name: user.username, org: user.participant_name })) : null,
      h('div', { class: 'hero-search' }, h('label', { for: 'home-serial' }, t('home.serial')), lookup)),
    user ? h('section', {}, h('h2', {}, t('home.work')), tiles(entries.filter((e) => e.roles))) : null,
    h('section', {}, h('h2', {}, t('home.public')), tiles(entries.filter((e) => !e.roles))));
  serial.id = 'home-serial';
}

// ---------------------------------------------------------------- chrome: header, navigation, footer

function navList(entries, current) {
  return h('ul', {}, entries.map((entry) => h('li', {}, h('a', {
    href: entry.hash, class: current === entry.hash.slice(2).split('/')[0] ? 'active' : null,
    'aria-current': current === entry.hash.slice(2).split('/')[0] ? 'page' : null,
  }, t(entry.label)))));
}

function renderChrome() {
  document.title = t('app.title');
  const current = routeKey();
  const user = session && session.user;
  const entries = visibleNav();
  mount(document.getElementById('header'),
    h('button', { class: 'menu-toggle', type: 'button', 'aria-controls': 'nav', 'aria-expanded': 'false',
      onClick: (event) => {
        const open = document.body.classList.toggle('nav-open');
        event.currentTarget.setAttribute('aria-expanded', String(open));
      } }, t('app.menu')),
    h('a', { class: 'brand', href: '#/home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '嘉'),
      h('span', { class: 'brand-text' }, h('strong', {}, t('app.title')), h('small', {}, t('app.subtitle')))),
    h('div', { class: 'header-tools' },
      h('button', { type: 'button', class: 'btn link lang-switch', title: t('lang.switch_title'),
        lang: lang() === 'zh' ? 'en' : 'zh', onClick: () => {
          setLang(lang() === 'zh' ? 'en' : 'zh');
          renderChrome();
          render();
        } }, t('lang.switch')),
      user
        ? [h('span', { class: 'user', title: user.roles.map((r) => t(`role.${r}`)).join(t('common.list_sep')) },
          user.username, h('small', {}, user.participant_name)),
        h('button', { type: 'button', class: 'btn', onClick: logout }, t('nav.logout'))]
        : h('a', { class: 'btn primary', href: '#/login' }, t('nav.login'))));
  const work = entries.filter((e) => e.roles);
  mount(document.getElementById('nav'),
    work.length ? h('div', { class: 'nav-group' }, h('h2', {}, t('nav.work')), navList(work, current)) : null,
    h('div', { class: 'nav-group' }, h('h2', {}, t('nav.public')), navList(entries.filter((e) => !e.roles), current)));
  mount(document.getElementById('footer'), h('p', {}, t('app.footer')));
}

async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch (err) {
    console.warn('logout', err); // the token is dropped either way
  }
  setSession(null);
  renderChrome();
  go('#/home');
}

// ---------------------------------------------------------------- router

function routeKey() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  return path.split('/')[0] || 'home';
}

function routeArgs() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  return path.split('/').slice(1).filter(Boolean).map(decodeURIComponent);
}

let renderCount = 0;

async function render() {
  leavePage();
  const mine = ++renderCount;
  const view = document.getElementById('view');
  const key = routeKey();
  document.body.classList.remove('nav-open');
  renderChrome();
  const handler = routes[key];
  view.dataset.page = key;
  delete view.dataset.ready; // set again once the page has drawn: what tests and screenshots wait for
  if (!handler) {
    mount(view, h('section', { class: 'card narrow' }, heading('notfound.title'),
      h('p', {}, t('notfound.lead', { hash: location.hash }))));
    view.dataset.ready = '';
    return;
  }
  mount(view, loading());
  try {
    await handler(view, routeArgs());
  } catch (err) {
    if (mine === renderCount) showProblem(view, err);
  }
  if (mine === renderCount) {
    view.dataset.ready = '';
    view.focus({ preventScroll: true });
  }
}

async function start() {
  setLang(lang());
  register(CORE);
  const loaded = await Promise.allSettled(PAGES.map((name) => import(`./pages/${name}.js`)));
  loaded.forEach((result, i) => {
    if (result.status === 'fulfilled') register(result.value.default);
    else console.warn(`page module ${PAGES[i]} not loaded:`, result.reason);
  });
  if (session && session.token) {
    try {
      setSession({ ...session, user: await api('GET', '/auth/me') });
    } catch {
      setSession(null);
    }
  }
  window.addEventListener('hashchange', render);
  if (!location.hash) location.replace('#/home');
  await render();
  document.body.classList.add('ready');
}

start();
