// The in-browser session (supporter console): speaks the session protocol on /web/session, opens
// the host's screen as a relay stream on /web/relay (a binary WebSocket whose first, text message
// is the stream ticket) and hands that socket to noVNC. Nothing here talks to another origin.
import RFB from '/assets/lib/novnc/core/rfb.js';
import { FileStream, MaxBrowserFile, download, list, upload } from '/assets/js/files.js';

const root = document.getElementById('viewer');
const $ = (id) => document.getElementById(id);
const text = (key) => root.dataset['text' + key] ?? key;
const status = $('session-status');
const rights = $('session-rights');
const screen = $('screen');
const controls = ['toggle-control', 'toggle-scale', 'fullscreen', 'ctrl-alt-del', 'clip-text', 'clip-send'].map($);

const state = { granted: [], rfb: null, over: false, control: false, asking: false, streams: 0, files: null, folder: '', busy: Promise.resolve() };

function show(message, kind) {
  status.textContent = message;
  status.dataset.state = kind;
  root.dataset.state = kind;
}

function socketUrl(path) {
  return `wss://${location.host}${path}`;
}

const channel = new WebSocket(socketUrl('/web/session'));

function send(message) {
  channel.send(JSON.stringify({ version: Number(root.dataset.protocol), ...message }));
}

function wanted() {
  const permissions = ['view', 'tunnel:screen'];
  if (root.dataset.mode !== 'view') {
    permissions.splice(1, 0, 'control');
  }
  return permissions;
}

channel.addEventListener('open', () => {
  send({
    type: 'session.connect',
    host: root.dataset.host || undefined,
    code: root.dataset.code || undefined,
    request: root.dataset.request || undefined,
    permissions: wanted(),
    // Chat where the host's group allows it; elsewhere the session goes on without it.
    optional: ['chat'],
  });
});

channel.addEventListener('message', (event) => {
  const message = JSON.parse(event.data);
  switch (message.type) {
    case 'session.awaiting-customer':
      show(text('Awaiting'), 'awaiting');
      break;
    case 'session.waiting':
      show(`${text('Waiting')} ${message.host}`, 'waiting');
      break;
    case 'session.granted':
      granted(message);
      break;
    case 'stream.ready':
      if (message.requestId.startsWith('files-')) {
        openFiles(message.ticket);
      } else if (message.requestId.startsWith('sysinfo-')) {
        readSystemInfo(message.ticket);
      } else {
        openScreen(message.ticket);
      }
      break;
    case 'session.rights.granted':
      rightsGranted(message);
      break;
    case 'session.rights.refused':
      if (message.requestId === 'files') {
        filesStatus(`${text('FilesRefused')} ${message.reason}`, 'error');
        $('files-open').disabled = false;
        break;
      }
      if (message.requestId === 'sysinfo') {
        systemInfoStatus(`${text('SysinfoRefused')} ${message.reason}`, 'error');
        break;
      }
      state.asking = false;
      show(`${text('ControlRefused')} ${message.reason}`, 'control-refused');
      $('toggle-control').disabled = false;
      break;
    case 'stream.refused':
      if (message.requestId.startsWith('files-')) {
        filesStatus(`${text('FilesRefused')} ${message.reason}`, 'error');
        $('files-open').disabled = false;
        break;
      }
      if (message.requestId.startsWith('sysinfo-')) {
        systemInfoStatus(`${text('SysinfoRefused')} ${message.reason}`, 'error');
        break;
      }
      end(`${text('Refused')} ${message.reason}`, 'refused');
      break;
    case 'session.refused':
      end(`${text('Refused')} ${message.reason}`, 'refused');
      break;
    case 'session.ended':
      end(`${text('Ended')} ${message.reason}`, 'ended');
      break;
    case 'chat.message':
      appendChat(message.from, message.text, message.at);
      break;
    case 'error':
      end(message.message, 'refused');
      break;
    default:
      break;
  }
});

channel.addEventListener('close', () => {
  if (!state.over) {
    end(text('Lost'), 'lost');
  }
});

function granted(message) {
  state.granted = message.permissions;
  state.control = message.permissions.includes('control');
  const card = $('code-card');
  if (card) {
    card.hidden = true;
  }
  show(`${text('Granted')} ${message.hostName}`, 'granted');
  showRights();
  $('chat').hidden = !message.permissions.includes('chat');
  $('files-open').disabled = false;
  $('sysinfo-open').disabled = false;
  if (message.permissions.includes('tunnel:screen')) {
    requestScreen();
  }
}

function showRights() {
  rights.textContent = `${text('Rights')} ${state.granted.join(', ')}`;
}

function requestScreen() {
  state.streams += 1;
  send({ type: 'stream.request', requestId: `screen-${state.streams}`, service: 'screen' });
}

// The host granted more (control after viewing): the host filters input per stream, so the screen
// is opened anew with the new rights and the old stream is let go.
function rightsGranted(message) {
  if (message.requestId === 'files' || message.requestId === 'sysinfo') {
    state.granted = message.permissions;
    showRights();
    if (message.requestId === 'files') {
      requestFiles();
    } else {
      requestSystemInfo();
    }
    return;
  }
  const hadControl = state.control;
  state.asking = false;
  state.granted = message.permissions;
  state.control = message.permissions.includes('control');
  showRights();
  if (state.control && !hadControl && state.rfb) {
    const old = state.rfb;
    state.rfb = null;
    old.disconnect();
    show(text('Granted'), 'granted');
    requestScreen();
  }
}

function openScreen(ticket) {
  const relay = new WebSocket(socketUrl('/web/relay'));
  relay.binaryType = 'arraybuffer';
  relay.addEventListener('open', () => {
    relay.send(ticket);
    // noVNC takes the open socket over; the server pairs it with the host's half and pumps RFB bytes.
    const rfb = new RFB(screen, relay, { shared: true });
    rfb.scaleViewport = true;
    rfb.viewOnly = !state.control;
    rfb.addEventListener('connect', () => {
      show(`${text('Connected')}`, 'connected');
      enableTools();
    });
    // Text the host's user copies (only ever sent with control: the host module drops it for a supporter who only watches).
    rfb.addEventListener('clipboard', (event) => {
      $('clip-text').value = event.detail.text;
      rights.textContent = text('ClipReceived');
    });
    rfb.addEventListener('disconnect', () => {
      if (!state.over && state.rfb === rfb) {
        show(text('Lost'), 'lost');
      }
    });
    state.rfb = rfb;
  }, { once: true });
}

// File panel: asks the host for 'files' (its user decides, or the group's policy), then opens one stream to the host's
// shared folder. The left pane sends files from this computer, the right one lists the host's folder.
function requestFiles() {
  state.streams += 1;
  filesStatus(text('FilesOpening'), 'busy');
  send({ type: 'stream.request', requestId: `files-${state.streams}`, service: 'files' });
}

function openFiles(ticket) {
  const relay = new WebSocket(socketUrl('/web/relay'));
  relay.addEventListener('open', () => {
    relay.send(ticket);
    state.files = new FileStream(relay);
    $('files').hidden = false;
    $('files-pick').disabled = false;
    $('files-open').disabled = false;
    browse('');
  }, { once: true });
  relay.addEventListener('close', () => {
    if (state.files?.socket === relay) {
      state.files = null;
      $('files-pick').disabled = true;
      $('files-open').disabled = state.over;
      if (!state.over) {
        filesStatus(text('FilesClosed'), 'error');
      }
    }
  });
}

function filesStatus(message, kind) {
  const status = $('files-status');
  status.textContent = message;
  status.dataset.state = kind;
}

// One file operation at a time on the stream.
function queue(work) {
  state.busy = state.busy.then(work, work);
  return state.busy;
}

function joinPath(folder, name) {
  return folder ? `${folder}/${name}` : name;
}

function sizeText(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

// quiet: after a transfer, whose result stays in the status line.
function browse(folder, quiet = false) {
  return queue(async () => {
    if (!state.files) {
      return;
    }
    try {
      const entries = await list(state.files, folder);
      state.folder = folder;
      showFolder(entries);
      if (!quiet) {
        filesStatus(`${text('FilesListed')} /${folder}`, 'ready');
      }
    } catch (error) {
      filesStatus(`${text('FilesFailed')} ${error.message}`, 'error');
    }
  });
}

function showFolder(entries) {
  $('files-path').textContent = `/${state.folder}`;
  const body = $('files-list').tBodies[0];
  body.replaceChildren();
  if (state.folder) {
    const up = state.folder.includes('/') ? state.folder.slice(0, state.folder.lastIndexOf('/')) : '';
    body.append(row(folderButton('..', up), '', ''));
  }
  for (const entry of entries) {
    const modified = new Date(entry.modified).toLocaleString();
    if (entry.kind === 'folder') {
      body.append(row(folderButton(`${entry.name}/`, joinPath(state.folder, entry.name)), '', modified));
    } else if (entry.kind === 'link') {
      // Links are shown, never followed (the host refuses them anyway).
      body.append(row(plain(`${entry.name} (${text('FilesLink')})`), '', modified));
    } else {
      const get = document.createElement('button');
      get.type = 'button';
      get.className = 'file-download';
      get.textContent = text('FilesDownload');
      get.dataset.name = entry.name;
      if (entry.size > MaxBrowserFile) {
        get.disabled = true;
        get.title = text('FilesTooLarge');
      }
      get.addEventListener('click', () => fetchFile(entry.name));
      body.append(row(plain(entry.name), sizeText(entry.size), modified, get));
    }
  }
}

function row(name, size, modified, action) {
  const tr = document.createElement('tr');
  for (const content of [name, size, modified, action ?? '']) {
    const td = document.createElement('td');
    td.append(content);
    tr.append(td);
  }
  return tr;
}

function plain(value) {
  const span = document.createElement('span');
  span.textContent = value;
  return span;
}

function folderButton(label, target) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link folder';
  button.textContent = label;
  button.addEventListener('click', () => browse(target));
  return button;
}

function fetchFile(name) {
  return queue(async () => {
    const path = joinPath(state.folder, name);
    try {
      const blob = await download(state.files, path, (at, size) => filesStatus(`${name}: ${Math.floor((100 * at) / Math.max(size, 1))} %`, 'busy'));
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      filesStatus(`${text('FilesFetched')} ${name} (${sizeText(blob.size)})`, 'done');
    } catch (error) {
      filesStatus(`${text('FilesFailed')} ${name}: ${error.message}`, 'error');
    }
  });
}

function sendFiles(files) {
  for (const file of files) {
    queue(async () => {
      if (file.size > MaxBrowserFile) {
        filesStatus(`${text('FilesFailed')} ${file.name}: ${text('FilesTooLarge')}`, 'error');
        return;
      }
      try {
        await upload(state.files, file, joinPath(state.folder, file.name), (at, size) => filesStatus(`${file.name}: ${Math.floor((100 * at) / Math.max(size, 1))} %`, 'busy'));
        filesStatus(`${text('FilesSent')} ${file.name} (${sizeText(file.size)})`, 'done');
      } catch (error) {
        filesStatus(`${text('FilesFailed')} ${file.name}: ${error.message}`, 'error');
      }
    });
  }
  return browse(state.folder, true);
}

$('files-open').addEventListener('click', (event) => {
  event.currentTarget.disabled = true;
  if (state.files) {
    $('files').hidden = false;
    browse(state.folder);
  } else if (state.granted.includes('files')) {
    requestFiles();
  } else {
    filesStatus(text('FilesAsking'), 'busy');
    $('files').hidden = false;
    send({ type: 'session.ask-rights', requestId: 'files', permissions: ['files'] });
  }
});

$('files-pick').addEventListener('change', (event) => {
  const files = [...event.currentTarget.files];
  event.currentTarget.value = '';
  if (state.files && files.length > 0) {
    sendFiles(files);
  }
});

const dropZone = $('files-local');
dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.dataset.drop = 'over';
});
dropZone.addEventListener('dragleave', () => delete dropZone.dataset.drop);
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  delete dropZone.dataset.drop;
  if (state.files) {
    sendFiles([...event.dataTransfer.files]);
  }
});

// System information: asks the host for 'sysinfo' (read-only), then reads its one JSON report from a stream.
function requestSystemInfo() {
  state.streams += 1;
  systemInfoStatus(text('SysinfoReading'), 'busy');
  send({ type: 'stream.request', requestId: `sysinfo-${state.streams}`, service: 'sysinfo' });
}

function systemInfoStatus(message, kind) {
  $('sysinfo').hidden = false;
  const status = $('sysinfo-status');
  status.textContent = message;
  status.dataset.state = kind;
}

function readSystemInfo(ticket) {
  const relay = new WebSocket(socketUrl('/web/relay'));
  relay.binaryType = 'arraybuffer';
  const parts = [];
  let length = 0;
  relay.addEventListener('open', () => relay.send(ticket), { once: true });
  relay.addEventListener('message', (event) => {
    if (event.data instanceof ArrayBuffer) {
      parts.push(new Uint8Array(event.data));
      length += event.data.byteLength;
      if (length > 1024 * 1024) {
        relay.close(1000, 'too large');
      }
    }
  });
  relay.addEventListener('close', () => {
    try {
      if (length === 0 || length > 1024 * 1024) {
        throw new Error(text('SysinfoNone'));
      }
      const bytes = new Uint8Array(length);
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
      showSystemInfo(JSON.parse(new TextDecoder().decode(bytes)));
      systemInfoStatus(`${text('SysinfoAt')} ${new Date().toLocaleTimeString()}`, 'done');
    } catch (error) {
      systemInfoStatus(`${text('SysinfoFailed')} ${error.message}`, 'error');
    }
  }, { once: true });
}

function showSystemInfo(report) {
  const days = Math.floor(report.uptimeSeconds / 86400);
  const hours = Math.floor((report.uptimeSeconds % 86400) / 3600);
  const minutes = Math.floor((report.uptimeSeconds % 3600) / 60);
  const facts = [
    ['SysinfoComputer', report.computerName],
    ['SysinfoOs', `${report.os} (${report.architecture})`],
    ['SysinfoUptime', `${days} d ${hours} h ${minutes} min`],
    ['SysinfoCpu', `${report.cpu.model} (${report.cpu.logicalProcessors})${report.cpu.loadAverage ? ` · ${report.cpu.loadAverage.map((l) => l.toFixed(2)).join(' ')}` : ''}`],
    ['SysinfoMemory', `${sizeText(report.memory.availableBytes)} / ${sizeText(report.memory.totalBytes)} ${text('SysinfoFree')}`],
    ['SysinfoUsers', report.users.join(', ') || '–'],
    ['SysinfoModule', report.moduleVersion],
  ];
  const summary = document.createElement('dl');
  summary.id = 'sysinfo-facts';
  for (const [key, value] of facts) {
    const term = document.createElement('dt');
    term.textContent = text(key);
    const detail = document.createElement('dd');
    detail.textContent = value;
    detail.dataset.fact = key;
    summary.append(term, detail);
  }
  const sections = [
    summary,
    table('SysinfoDisks', ['Mount', 'Format', 'Free', 'Total'], report.disks.map((d) => [d.mount, d.format, sizeText(d.freeBytes), sizeText(d.totalBytes)])),
    table('SysinfoNetworks', ['Name', 'Status', 'Addresses'], report.networks.map((n) => [n.name, n.status, n.addresses.join(' ')])),
    table('SysinfoProcesses', ['Id', 'Name', 'CPU %', 'Memory'], report.topByCpu.map((p) => [String(p.id), p.name, p.cpuPercent.toFixed(1), sizeText(p.memoryBytes)])),
    table('SysinfoServices', ['Name', 'State', ''], report.services.map((v) => [v.name, v.state, v.description ?? ''])),
  ];
  if (report.notes.length > 0) {
    const notes = document.createElement('ul');
    notes.className = 'muted';
    for (const note of report.notes) {
      const item = document.createElement('li');
      item.textContent = note;
      notes.append(item);
    }
    sections.push(notes);
  }
  $('sysinfo-report').replaceChildren(...sections);
}

function table(titleKey, headings, rows) {
  const wrapper = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = `${text(titleKey)} (${rows.length})`;
  const grid = document.createElement('table');
  grid.className = 'sysinfo-table';
  const head = grid.createTHead().insertRow();
  for (const heading of headings) {
    const th = document.createElement('th');
    th.textContent = heading;
    head.append(th);
  }
  const body = grid.createTBody();
  for (const cells of rows) {
    const tr = body.insertRow();
    for (const cell of cells) {
      tr.insertCell().textContent = cell;
    }
  }
  wrapper.append(summary, grid);
  return wrapper;
}

$('sysinfo-open').addEventListener('click', () => {
  if (state.granted.includes('sysinfo')) {
    requestSystemInfo();
  } else {
    systemInfoStatus(text('SysinfoAsking'), 'busy');
    send({ type: 'session.ask-rights', requestId: 'sysinfo', permissions: ['sysinfo'] });
  }
});

function enableTools() {
  for (const control of controls) {
    control.disabled = false;
  }
  const toggle = $('toggle-control');
  toggle.disabled = state.asking;
  if (!state.control) {
    $('ctrl-alt-del').disabled = true;
    $('clip-text').disabled = true;
    $('clip-send').disabled = true;
  }
  showMode();
}

function showMode() {
  const viewOnly = state.rfb?.viewOnly ?? true;
  root.dataset.mode = viewOnly ? 'view' : 'control';
  // The button offers the other mode, or asks the host for control when the session has none.
  $('toggle-control').textContent = !state.control ? text('AskControl') : viewOnly ? text('Control') : text('View');
}

function end(message, kind) {
  state.over = true;
  show(message, kind);
  for (const control of controls) {
    control.disabled = true;
  }
  $('end-session').disabled = true;
  $('files-open').disabled = true;
  $('sysinfo-open').disabled = true;
  $('files-pick').disabled = true;
  state.files?.close();
  state.files = null;
  $('chat-text').disabled = true;
  $('chat-send').disabled = true;
  if (state.rfb) {
    const rfb = state.rfb;
    state.rfb = null;
    rfb.disconnect();
  }
  if (channel.readyState === WebSocket.OPEN) {
    channel.close(1000, 'session over');
  }
}

$('toggle-control').addEventListener('click', (event) => {
  if (state.rfb && state.control) {
    state.rfb.viewOnly = !state.rfb.viewOnly;
    showMode();
  } else if (!state.control && !state.asking && !state.over) {
    state.asking = true;
    event.currentTarget.disabled = true;
    show(text('AskingControl'), 'asking');
    send({ type: 'session.ask-rights', requestId: 'control', permissions: ['control'] });
  }
});

$('toggle-scale').addEventListener('click', (event) => {
  if (state.rfb) {
    state.rfb.scaleViewport = !state.rfb.scaleViewport;
    event.currentTarget.setAttribute('aria-pressed', String(state.rfb.scaleViewport));
  }
});

$('fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) {
    document.exitFullscreen();
  } else {
    screen.requestFullscreen();
  }
});

$('ctrl-alt-del').addEventListener('click', () => state.rfb?.sendCtrlAltDel());

$('clip-send').addEventListener('click', () => {
  const field = $('clip-text');
  if (state.rfb && field.value) {
    state.rfb.clipboardPasteFrom(field.value);
    field.value = '';
    rights.textContent = text('ClipSent');
  }
});

$('end-session').addEventListener('click', () => end(text('Ended'), 'ended'));

// Chat: text only (never HTML); links to other origins go through /leave, the appliance's warning page.
const links = /\bhttps?:\/\/[^\s<>"']+/g;

function appendChat(from, body, at) {
  const item = document.createElement('li');
  const when = at ? new Date(at) : new Date();
  const time = document.createElement('time');
  time.dateTime = when.toISOString();
  time.textContent = when.toLocaleTimeString();
  const who = document.createElement('strong');
  who.textContent = from;
  item.append(time, ' ', who, ': ');
  let last = 0;
  for (const match of body.matchAll(links)) {
    item.append(body.slice(last, match.index));
    const link = document.createElement('a');
    link.href = `/leave?to=${encodeURIComponent(match[0])}`;
    link.rel = 'noopener noreferrer';
    link.textContent = match[0];
    item.append(link);
    last = match.index + match[0].length;
  }
  item.append(body.slice(last));
  $('chat-log').append(item);
  item.scrollIntoView({ block: 'end' });
}

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const field = $('chat-text');
  const line = field.value.trim();
  if (line && !state.over) {
    send({ type: 'chat.message', text: line });
    appendChat(text('You'), line);
    field.value = '';
  }
});

// The code's countdown, while the customer has not joined.
const expires = Number(root.dataset.codeExpires);
if (expires) {
  const countdown = $('code-countdown');
  const tick = () => {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    if (left === 0 || state.granted.length > 0 || state.over) {
      clearInterval(timer);
    }
  };
  const timer = setInterval(tick, 1000);
  tick();
}
