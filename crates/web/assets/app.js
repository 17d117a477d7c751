// Sesame's page: one screen at a time, each a call to the local API. Everything from a backup
// is shown with textContent (never as HTML): a device name is data, not markup. Passwords are
// kept in no browser storage; the page holds only what it shows.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { backups: [], current: null, hints: null, poll: null, jobPoll: null, folder: null, info: null };

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (!r.ok) {
    const msg = (data && data.error) || ('the request failed (' + r.status + ')');
    throw new Error(msg);
  }
  return data;
}

function notice(msg) {
  const n = $('notice');
  n.textContent = msg || '';
  n.hidden = !msg;
}

function show(id) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  notice('');
  const h = document.querySelector('#' + id + ' h1');
  if (h) h.focus();
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function group(n) {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bytes(n) {
  if (!n) return '0 bytes';
  const u = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

// "about 20 minutes", "2 days", in the words a person uses.
function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return 'unknown';
  if (s < 1) return 'under a second';
  if (s < 90) return 'about ' + Math.round(s) + ' seconds';
  const m = s / 60;
  if (m < 90) return 'about ' + Math.round(m) + ' minutes';
  const h = m / 60;
  if (h < 36) return 'about ' + Math.round(h) + ' hours';
  const d = h / 24;
  if (d < 730) return 'about ' + Math.round(d) + ' days';
  return 'about ' + Math.round(d / 365) + ' years';
}

function rate(r) {
  return r >= 100 ? group(r) : r.toFixed(2);
}

// "1 December 2026, 12:16" in the person's own way of writing dates.
function when(iso) {
  if (!iso) return 'unknown';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
}

function fact(dl, k, v) {
  dl.append(el('dt', k), el('dd', v));
}

function yesNo(v) {
  return v === true ? 'yes' : v === false ? 'no' : 'cannot tell';
}

// 1. Your backups.
async function loadList() {
  const data = await api('/api/backups');
  state.backups = data.backups;
  state.info = data;
  const list = $('backups');
  list.replaceChildren();
  for (const b of data.backups) {
    const li = el('li', null, 'card');
    li.append(el('h2', b.device_name || 'A backup'));
    const dl = el('dl', null, 'facts');
    fact(dl, 'Model', [b.product_type, b.ios_version && ('iOS ' + b.ios_version)].filter(Boolean).join(', ') || 'unknown');
    fact(dl, 'Made', when(b.last_backup_date));
    fact(dl, 'Size', bytes(b.size_on_disk));
    fact(dl, 'Encrypted', b.already_decrypted ? 'no (already decrypted by another tool)' : yesNo(b.encrypted));
    fact(dl, 'Complete', b.complete === false ? 'no: the backup did not finish' : yesNo(b.complete));
    fact(dl, 'Folder', b.path);
    li.append(dl);
    if (b.saved_search && !b.password_known) {
      li.append(el('p', 'A search for its password is saved: ' + group(b.saved_search.done) + ' guesses tried so far.', 'hint'));
    }
    if (b.password_known) li.append(el('p', 'Its password is known.', 'good'));
    for (const w of b.warnings || []) li.append(el('p', w, 'bad'));
    const btn = el('button', 'Open this backup', 'primary');
    btn.type = 'button';
    btn.addEventListener('click', () => openBackup(b.id));
    li.append(btn);
    list.append(li);
  }
  const un = $('unreadable');
  un.replaceChildren();
  for (const u of data.unreadable) un.append(el('p', u.why, 'bad'));
  $('no-backups').hidden = data.backups.length > 0;
  const looked = $('looked-in');
  looked.replaceChildren(...data.looked_in.map((p) => el('li', p, 'path')));
  looked.hidden = data.backups.length > 0;
  $('out-dir').textContent = data.output_dir;
  $('keychain-mac').hidden = !data.keychain_lookup;
  show('screen-list');
  loadPhones();
}

// A phone connected now (through usbmuxd): its backup setting, and what can be done with it.
async function loadPhones() {
  let data;
  try { data = await api('/api/phones'); } catch (_) { return; }
  const ul = $('phone-list');
  ul.replaceChildren();
  $('phones').hidden = data.phones.length === 0;
  for (const p of data.phones) {
    const li = el('li', null, 'card');
    li.append(el('h3', p.name || 'An iPhone or iPad'));
    if (p.message) { li.append(el('p', p.message, 'bad')); ul.append(li); continue; }
    const dl = el('dl', null, 'facts');
    fact(dl, 'Model', [p.model, p.ios && ('iOS ' + p.ios)].filter(Boolean).join(', ') || 'unknown');
    fact(dl, 'Trusts this computer', p.paired ? 'yes' : 'no');
    fact(dl, 'Backup encryption', p.will_encrypt === true ? 'on' : p.will_encrypt === false ? 'off' : 'cannot tell until it trusts this computer');
    li.append(dl);
    const button = (text, fn, cls) => {
      const b = el('button', text, cls);
      b.type = 'button';
      b.addEventListener('click', fn);
      li.append(b, document.createTextNode(' '));
    };
    const say = (m) => { $('phone-state').textContent = m; };
    if (!p.paired) {
      button('Trust this computer', async () => {
        say('Look at the phone: unlock it, tap Trust and enter its passcode.');
        try { await api('/api/phone/trust', { udid: p.udid }); say('The phone trusts this computer now.'); loadPhones(); } catch (e) { say(e.message); }
      });
    } else {
      if (p.will_encrypt && p.password_known) {
        button('Turn backup encryption off', async () => {
          say('Working… On iOS 13 and later the phone asks for its passcode: enter it on the phone.');
          try { await api('/api/phone/encryption-off', { udid: p.udid }); say('Backup encryption is off: new backups of this phone need no password.'); loadPhones(); } catch (e) { say(e.message); }
        });
      }
      if (p.will_encrypt && !p.password_known) {
        li.append(el('p', 'If its backup password cannot be found: ' + p.reset_text, 'hint'));
      }
      button('Make a new backup of it', async () => {
        try {
          const j = await api('/api/phone/backup', { udid: p.udid });
          say('Backing up into ' + j.out + '…');
          const tick = async () => {
            const s = await api('/api/job');
            if (!s) return;
            if (s.state === 'running') { say('Backing up into ' + s.out + ': ' + bytes(s.bytes_done) + (s.lines[0] ? ', ' + s.lines[0] : '')); setTimeout(tick, 1000); return; }
            say(s.state === 'done' ? 'The new backup is ready in ' + s.out + '.' : (s.error || s.state));
            if (s.state === 'done') loadList();
          };
          tick();
        } catch (e) { say(e.message); }
      }, 'primary');
    }
    ul.append(li);
  }
}

// The folder picker.
async function browse(path) {
  try {
    const f = await api('/api/folders', { path: path || null });
    state.folder = f;
    $('folder-path').textContent = f.path + (f.is_backup ? '  (a backup)' : '');
    $('folder-up').disabled = !f.parent;
    const ul = $('folder-list');
    ul.replaceChildren();
    for (const d of f.folders) {
      const li = el('li');
      const b = el('button', d.name + (d.is_backup ? '  (a backup)' : ''), 'folder');
      b.type = 'button';
      b.addEventListener('click', () => browse(d.path));
      li.append(b);
      ul.append(li);
    }
    if (!f.folders.length) ul.append(el('li', 'No folders inside.', 'hint'));
    if ($('screen-folders').hidden) show('screen-folders');
  } catch (e) { notice(e.message); }
}

// 2. One backup.
async function openBackup(id) {
  try {
    const b = await api('/api/backup', { id });
    state.current = b;
    $('backup-title').textContent = b.device_name || 'This backup';
    const dl = $('backup-facts');
    dl.replaceChildren();
    fact(dl, 'Model', [b.product_type, b.ios_version && ('iOS ' + b.ios_version)].filter(Boolean).join(', ') || 'unknown');
    fact(dl, 'Made', when(b.last_backup_date));
    fact(dl, 'Size', bytes(b.size_on_disk));
    fact(dl, 'Folder', b.path);
    const plain = !b.needs_password && b.encrypted !== null;
    $('backup-plain').hidden = !plain;
    $('backup-encrypted').hidden = plain;
    $('try-result').textContent = '';
    $('keychain-result').textContent = '';
    $('try-password').value = '';
    if (b.encrypted === null) {
      show('screen-backup');
      notice('Sesame cannot tell whether this backup is encrypted: its Manifest.plist is missing or damaged. Copy the whole backup folder again from where it came from.');
      $('backup-encrypted').hidden = true;
      return;
    }
    if (b.password_known) { await found(); return; }
    const saved = b.saved_search;
    $('saved-search').hidden = !saved;
    if (saved) {
      $('saved-text').textContent = group(saved.done) + (saved.total ? ' of ' + group(saved.total) : '') +
        ' guesses have been tried. The search goes on from there.';
    }
    show('screen-backup');
    if (!plain) {
      $('cost').textContent = 'Measuring what one guess costs on this computer…';
      try {
        const p = await api('/api/plan', { id, hints: {} });
        const per = p.seconds_per_guess_per_thread;
        $('cost').textContent = 'On this computer one guess takes ' +
          (per >= 0.1 ? per.toFixed(2) + ' seconds' : (per * 1000).toFixed(per >= 0.001 ? 0 : 3) + ' milliseconds') +
          ' of a processor core: ' + rate(p.rate) + ' guesses a second with all ' + p.threads +
          ' cores. That is why the search starts with what you remember.';
      } catch (e) { $('cost').textContent = e.message; }
    }
  } catch (e) { notice(e.message); }
}

// 3. What you remember: each field a list of answers (a comma also ends an answer).
function setupChips() {
  for (const f of document.querySelectorAll('.field')) {
    const input = f.querySelector('input');
    // Commas separate answers: "Rex, Luna" is two names, never one phrase. A date may hold
    // one ("March 17, 1985") and a password may too: those are split by Sesame, not here.
    const whole = f.dataset.field === 'dates' || f.dataset.field === 'passwords';
    const add = () => {
      const parts = whole ? [input.value] : input.value.split(',');
      for (const part of parts) {
        const v = f.dataset.field === 'passwords' ? part : part.trim();
        if (v.trim()) addChip(f, v);
      }
      input.value = '';
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); add(); }
    });
    input.addEventListener('input', () => { if (!whole && input.value.includes(',')) add(); });
    f.querySelector('.add').addEventListener('click', () => { add(); input.focus(); });
    f.add = add;
  }
}

function addChip(field, value) {
  const ul = field.querySelector('.chips');
  for (const c of ul.children) if (c.dataset.value === value) return;
  const li = el('li', null, 'chip');
  li.dataset.value = value;
  li.append(el('span', value));
  const x = el('button', '×', 'remove');
  x.type = 'button';
  x.setAttribute('aria-label', 'Remove ' + value);
  x.addEventListener('click', () => { li.remove(); field.querySelector('input').focus(); });
  li.append(x);
  ul.append(li);
}

function readHints() {
  const h = {};
  for (const f of document.querySelectorAll('.field')) {
    f.add(); // what is typed but not yet added counts too
    h[f.dataset.field] = [...f.querySelectorAll('.chip')].map((c) => c.dataset.value);
  }
  return h;
}

// 4. The plan.
async function showPlan(resume, wider) {
  const id = state.current.id;
  $('hints-error').hidden = true;
  state.wider = !resume && !!wider;
  const body = resume ? { id, resume: true } : { id, hints: state.hints, wider: state.wider };
  try {
    notice('Measuring this computer…');
    const p = await api('/api/plan', body);
    state.resume = !!resume;
    $('plan-intro').textContent = (p.wider
      ? 'The wider search: every name and word you gave with every four digits after it, the likeliest digits first.'
      : p.hints_given
      ? 'The search tries what you remember first, mixed the ways people mix them, then the passwords most people use.'
      : 'You gave no answers, so the search tries the passwords most people use, likeliest first.') +
      ' This computer makes ' + rate(p.rate) + ' guesses a second' +
      (p.devices.length > 1 ? ' (' + p.devices.map((d) => d.name + ': ' + rate(d.rate)).join(', ') + ')' : '') + '.';
    const tb = $('plan-stages');
    tb.replaceChildren();
    for (const s of p.stages) {
      const tr = el('tr');
      tr.append(el('td', s.name), el('td', s.guesses === null ? 'unknown' : group(s.guesses)), el('td', duration(s.seconds)));
      tb.append(tr);
    }
    $('plan-total').textContent = 'All of it: ' + (p.total === null ? 'unknown' : group(p.total)) + ' guesses, ' + duration(p.seconds) +
      '. Most passwords that are made of what you remember come in the first step.';
    show('screen-plan');
  } catch (e) {
    notice('');
    if (resume) { notice(e.message); return; }
    $('hints-error').textContent = e.message;
    $('hints-error').hidden = false;
  }
}

async function startSearch() {
  const id = state.current.id;
  const body = state.resume ? { id, resume: true } : { id, hints: state.hints, wider: state.wider };
  try {
    await api('/api/search/start', body);
    show('screen-search');
    pollSearch();
  } catch (e) { notice(e.message); }
}

// 5. Searching.
function pollSearch() {
  clearTimeout(state.poll);
  const tick = async () => {
    let s;
    try { s = await api('/api/search'); } catch (e) { notice(e.message); state.poll = setTimeout(tick, 2000); return; }
    if (!s) return;
    drawSearch(s);
    if (s.state === 'found') { await found(); return; }
    if (s.state === 'exhausted') { notFound(s); return; }
    if (s.state === 'error') { notice(s.error); return; }
    if (s.state === 'stopped') return;
    state.poll = setTimeout(tick, 1000);
  };
  tick();
}

function drawSearch(s) {
  const words = {
    starting: 'Getting ready: checking the processor and measuring it…',
    running: 'Searching.',
    paused: 'Paused. Nothing is lost: press Resume to go on.',
    stopped: 'Stopped. The search is saved: open this backup again to go on.',
    found: 'Found!',
    exhausted: 'Every guess of the plan was tried.',
    error: s.error || 'The search stopped.',
  };
  $('search-state').textContent = words[s.state] || s.state;
  const bar = $('search-bar');
  bar.max = s.total || 1;
  bar.value = s.done;
  const dl = $('search-facts');
  dl.replaceChildren();
  fact(dl, 'Tried', group(s.done) + (s.total ? ' of ' + group(s.total) : ''));
  const stage = s.stage !== null && s.stages[s.stage] ? s.stages[s.stage].name : null;
  if (stage) fact(dl, 'Now trying', stage);
  fact(dl, 'Speed', s.devices.length
    ? s.devices.map((d) => d.name + ': ' + rate(d.rate) + ' guesses a second').join('; ')
    : rate(s.rate) + ' guesses a second');
  if (s.stage_seconds_left !== null) fact(dl, 'Time left for this step', duration(s.stage_seconds_left));
  if (s.seconds_left !== null) fact(dl, 'Time left for all of it', duration(s.seconds_left));
  const paused = s.state === 'paused';
  const live = s.state === 'running' || paused || s.state === 'starting';
  $('pause').hidden = paused || !live;
  $('resume').hidden = !paused;
  $('stop').hidden = !live;
}

async function control(what) {
  try {
    const s = await api('/api/search/' + what, {});
    drawSearch(s);
    if (what === 'stop') { clearTimeout(state.poll); drawSearch(Object.assign(s, { state: 'stopped' })); }
    (what === 'pause' ? $('resume') : what === 'resume' ? $('pause') : $('search-state')).focus();
  } catch (e) { notice(e.message); }
}

// 6. Found.
async function found() {
  clearTimeout(state.poll);
  $('password-box').textContent = '••••••••';
  $('password-box').classList.remove('shown');
  $('show-password').textContent = 'Show the password';
  $('job').hidden = true;
  $('keychain').hidden = true;
  $('rekey-form').hidden = true;
  const b = state.current;
  const plainBackup = b && !b.needs_password;
  $('password-box').parentElement.parentElement.hidden = plainBackup;
  show('screen-found');
  if (!plainBackup) $('show-password').focus();
}

async function togglePassword() {
  const box = $('password-box');
  if (box.classList.contains('shown')) {
    box.textContent = '••••••••';
    box.classList.remove('shown');
    $('show-password').textContent = 'Show the password';
    return;
  }
  try {
    const r = await api('/api/password', { id: state.current.id });
    box.textContent = r.password;
    box.classList.add('shown');
    $('show-password').textContent = 'Hide the password';
  } catch (e) { notice(e.message); }
}

async function startJob(kind, extra) {
  const out = $('out-choice').value.trim();
  try {
    const body = Object.assign({ id: state.current.id, out: out || null }, extra || {});
    await api('/api/' + kind, body);
    $('job').hidden = false;
    pollJob();
  } catch (e) { notice(e.message); }
}

function pollJob() {
  clearTimeout(state.jobPoll);
  const tick = async () => {
    let j;
    try { j = await api('/api/job'); } catch (e) { notice(e.message); return; }
    if (!j) return;
    const what = { decrypt: 'The decrypted copy', export: 'Messages, contacts and photos', 'change-password': 'The copy with a new password', 'phone-backup': 'The new backup of the phone' }[j.kind];
    const words = { running: 'is being written into ', done: 'is ready in ', failed: 'failed: ', cancelled: 'was stopped: ' }[j.state];
    $('job-state').textContent = what + ' ' + words + (j.state === 'failed' || j.state === 'cancelled' ? j.error : j.out);
    const bar = $('job-bar');
    bar.max = j.bytes_total || 1;
    bar.value = j.state === 'done' ? bar.max : j.bytes_done;
    const ul = $('job-lines');
    ul.replaceChildren(...j.lines.map((l) => el('li', l)));
    if (j.index && j.state === 'done') {
      const li = el('li', null, 'good');
      if (j.view) {
        const a = el('a', 'Open them here');
        a.href = j.view;
        a.target = '_blank';
        a.rel = 'noopener';
        li.append(a, document.createTextNode(' (a new tab), or later from ' + j.index + '.'));
      } else {
        li.textContent = 'Open ' + j.index + ' in your browser to read them.';
      }
      ul.append(li);
    }
    $('job-stop').hidden = j.state !== 'running';
    if (j.state === 'running') state.jobPoll = setTimeout(tick, 500);
  };
  tick();
}

async function showKeychain() {
  try {
    const k = await api('/api/keychain', { id: state.current.id });
    const tb = $('keychain-items');
    tb.replaceChildren();
    for (const i of k.items) {
      const tr = el('tr');
      const secret = el('td');
      const btn = el('button', 'Show');
      btn.type = 'button';
      btn.setAttribute('aria-label', 'Show the password of ' + (i.name || i.kind));
      btn.addEventListener('click', () => { secret.replaceChildren(el('span', i.secret, 'secret shown')); });
      secret.append(btn);
      tr.append(el('td', i.kind), el('td', i.name), el('td', i.account), secret);
      tb.append(tr);
    }
    $('keychain-note').textContent = k.items.length + ' passwords.' +
      (k.device_only ? ' ' + k.device_only + (k.device_only === 1 ? ' more item is' : ' more items are') + ' locked to the phone itself and cannot be read from a backup.' : '');
    $('keychain').hidden = false;
  } catch (e) { notice(e.message); }
}

// 7. Not found.
function notFound(s) {
  const words = state.hints && ((state.hints.names || []).length + (state.hints.places || []).length);
  $('wider-offer').hidden = !words || state.wider;
  $('notfound-text').textContent = s.stages.length
    ? 'All ' + group(s.done) + ' guesses of the plan were tried (' + s.stages.map((x) => x.name).join('; ') + '), and none opens the backup.'
    : 'This search had already been run to the end before: none of its guesses opens the backup.';
  show('screen-notfound');
}

async function start() {
  setupChips();
  $('other-folder').addEventListener('click', () => browse(null));
  $('folder-up').addEventListener('click', () => browse(state.folder && state.folder.parent));
  $('folder-cancel').addEventListener('click', loadList);
  $('folder-use').addEventListener('click', async () => {
    try { await api('/api/roots', { path: state.folder.path }); await loadList(); } catch (e) { notice(e.message); }
  });
  for (const b of document.querySelectorAll('.back-to-list')) b.addEventListener('click', loadList);
  for (const b of document.querySelectorAll('.back-to-backup')) b.addEventListener('click', () => openBackup(state.current.id));
  for (const b of document.querySelectorAll('.back-to-remember')) b.addEventListener('click', () => show('screen-remember'));
  $('try-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const pw = $('try-password').value;
    if (!pw) return;
    $('try-result').textContent = 'Checking…';
    try {
      const r = await api('/api/try', { id: state.current.id, password: pw });
      $('try-password').value = '';
      if (r.right) { await found(); } else { $('try-result').textContent = 'That is not it. Add it below anyway: a password close to it may be.'; }
    } catch (err) { $('try-result').textContent = err.message; }
  });
  $('keychain-lookup').addEventListener('click', async () => {
    $('keychain-result').textContent = 'Asking the Keychain…';
    try {
      const r = await api('/api/keychain-lookup', { id: state.current.id });
      $('keychain-result').textContent = r.message;
      if (r.result === 'opens') await found();
    } catch (err) { $('keychain-result').textContent = err.message; }
  });
  $('to-remember').addEventListener('click', () => show('screen-remember'));
  $('wider').addEventListener('click', () => showPlan(false, true));
  $('resume-saved').addEventListener('click', () => showPlan(true));
  $('plain-continue').addEventListener('click', found);
  $('hints-form').addEventListener('submit', (e) => { e.preventDefault(); state.hints = readHints(); showPlan(false); });
  $('start').addEventListener('click', startSearch);
  $('pause').addEventListener('click', () => control('pause'));
  $('resume').addEventListener('click', () => control('resume'));
  $('stop').addEventListener('click', () => control('stop'));
  $('show-password').addEventListener('click', togglePassword);
  $('do-decrypt').addEventListener('click', () => startJob('decrypt'));
  $('do-export').addEventListener('click', () => startJob('export'));
  $('do-keychain').addEventListener('click', showKeychain);
  $('do-rekey').addEventListener('click', () => { $('rekey-form').hidden = false; $('new-password').focus(); });
  $('rekey-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const np = $('new-password').value;
    if (!np) return;
    $('new-password').value = '';
    $('rekey-form').hidden = true;
    startJob('change-password', { new_password: np });
  });
  $('job-stop').addEventListener('click', async () => { try { await api('/api/job/stop', {}); pollJob(); } catch (e) { notice(e.message); } });
  $('quit').addEventListener('click', async () => {
    try { await api('/api/quit', {}); } catch (_) { /* already gone */ }
    clearTimeout(state.poll);
    clearTimeout(state.jobPoll);
    show('screen-bye');
  });

  try {
    await loadList();
    // A search still running in the server (the page was closed and opened again).
    const s = await api('/api/search');
    if (s && ['starting', 'running', 'paused'].includes(s.state)) {
      const b = state.backups.find((x) => x.id === s.backup);
      if (b) {
        state.current = b;
        show('screen-search');
        pollSearch();
      }
    }
  } catch (e) { notice(e.message); }
}

document.addEventListener('DOMContentLoaded', start);
