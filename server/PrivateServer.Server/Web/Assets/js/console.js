// The supporter console's start page: filters the host list as one types, refreshes the hosts'
// online status and the queue of waiting customers every few seconds (same-origin JSON only).
const hosts = document.getElementById('hosts');
const rows = document.getElementById('host-rows');
const search = document.getElementById('host-search');
const queue = document.getElementById('queue');
const queueRows = document.getElementById('queue-rows');
const refreshMs = 5000;

function filter() {
  const wanted = search.value.trim().toLowerCase();
  for (const row of rows.rows) {
    row.hidden = wanted !== '' && !row.dataset.search.includes(wanted);
  }
}

function link(href, label, quiet) {
  const a = document.createElement('a');
  a.className = quiet ? 'button quiet' : 'button';
  a.href = href;
  a.textContent = label;
  return a;
}

function cell(value) {
  const td = document.createElement('td');
  td.textContent = value ?? '';
  return td;
}

function renderHosts(list) {
  rows.replaceChildren(...list.map((host) => {
    const tr = document.createElement('tr');
    tr.dataset.host = host.id;
    tr.dataset.search = `${host.name} ${host.group} ${host.os ?? ''}`.toLowerCase();
    const badge = document.createElement('span');
    badge.className = host.online ? 'badge on' : 'badge off';
    badge.textContent = host.online ? hosts.dataset.textOnline : hosts.dataset.textOffline;
    const status = document.createElement('td');
    status.append(badge);
    const actions = document.createElement('td');
    actions.className = 'actions';
    if (host.online) {
      const id = encodeURIComponent(host.id);
      actions.append(
        link(`/console/session?host=${id}&mode=control`, hosts.dataset.textConnect, false),
        link(`/console/session?host=${id}&mode=view`, hosts.dataset.textView, true));
    }
    tr.append(cell(host.name), cell(host.group), cell(host.os), status, actions);
    return tr;
  }));
  document.getElementById('no-hosts').hidden = list.length > 0;
  filter();
}

function renderQueue(list) {
  queueRows.replaceChildren(...list.map((waiting) => {
    const li = document.createElement('li');
    const who = document.createElement('strong');
    who.textContent = waiting.name;
    const what = document.createElement('span');
    what.className = 'muted';
    what.textContent = waiting.text;
    li.append(who, ' ', what, ' ', link(`/console/session?request=${encodeURIComponent(waiting.id)}`, queue.dataset.textTake, false));
    return li;
  }));
  document.getElementById('queue-empty').hidden = list.length > 0;
}

async function refresh() {
  try {
    const [hostList, waiting] = await Promise.all([
      fetch('/web/hosts', { credentials: 'same-origin' }),
      fetch('/web/queue', { credentials: 'same-origin' }),
    ]);
    if (hostList.status === 401) {
      location.assign('/login');
      return;
    }
    if (hostList.ok) {
      renderHosts(await hostList.json());
    }
    if (waiting.ok) {
      renderQueue(await waiting.json());
    }
  } catch {
    // The appliance restarts or the network blinks: the next round tries again.
  }
}

search.addEventListener('input', filter);
refresh();
setInterval(refresh, refreshMs);
