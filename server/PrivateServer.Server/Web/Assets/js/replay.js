// Replays a server-side screen recording (.psrec) in noVNC: the recorded bytes from the VNC server
// are fed to noVNC through a channel object that behaves like an open WebSocket; what noVNC sends
// back goes nowhere. Seeking starts noVNC afresh and feeds everything up to the chosen moment at once.
// Nothing here talks to another origin.
import RFB from '/assets/lib/novnc/core/rfb.js';

const root = document.getElementById('replay');
const $ = (id) => document.getElementById(id);
const text = (key) => root.dataset['text' + key] ?? key;
const status = $('replay-status');
const screen = $('screen');
const play = $('replay-play');
const speed = $('replay-speed');
const seek = $('replay-seek');
const clock = $('replay-time');

const FROM_SERVER = 0x53; // 'S'

class ReplayChannel {
  constructor() {
    this.binaryType = 'arraybuffer';
    this.protocol = '';
    this.readyState = 'open';
    this.onerror = null;
    this.onmessage = null;
    this.onopen = null;
    this.onclose = null;
  }

  send() {
    // A recording does not answer.
  }

  close() {
    if (this.readyState !== 'closed') {
      this.readyState = 'closed';
      // As a WebSocket would: noVNC finishes its disconnect on the close event.
      setTimeout(() => this.onclose?.({ code: 1000, reason: '', wasClean: true }), 0);
    }
  }

  deliver(bytes) {
    if (this.readyState === 'open' && this.onmessage) {
      this.onmessage({ data: bytes.slice().buffer });
    }
  }
}

const state = { frames: [], duration: 0, rfb: null, channel: null, next: 0, position: 0, playing: false, last: 0 };

function show(kind) {
  status.textContent = text(kind.charAt(0).toUpperCase() + kind.slice(1));
  status.dataset.state = kind;
  root.dataset.state = kind;
}

function parse(bytes) {
  const first = bytes.indexOf(0x0a);
  const second = bytes.indexOf(0x0a, first + 1);
  if (new TextDecoder().decode(bytes.subarray(0, first)) !== 'PSREC/1' || second < 0) {
    throw new Error('not a PrivateServer recording');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = [];
  let at = second + 1;
  while (at + 13 <= bytes.length) {
    const direction = bytes[at];
    const micros = Number(view.getBigInt64(at + 1));
    const length = view.getInt32(at + 9);
    if (at + 13 + length > bytes.length) {
      break;
    }
    if (direction === FROM_SERVER) {
      frames.push({ micros, bytes: bytes.subarray(at + 13, at + 13 + length) });
    }
    at += 13 + length;
  }
  return frames;
}

function format(micros) {
  const seconds = Math.floor(micros / 1e6);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function showTime() {
  clock.textContent = `${format(state.position)} / ${format(state.duration)}`;
  seek.value = String(Math.round(state.position / 1000));
}

// A fresh noVNC fed with everything up to `micros`.
function restart(micros) {
  if (state.rfb) {
    const old = state.rfb;
    state.rfb = null;
    old.disconnect();
  }
  state.channel = new ReplayChannel();
  const rfb = new RFB(screen, state.channel, { shared: true });
  rfb.viewOnly = true;
  rfb.scaleViewport = true;
  state.rfb = rfb;
  state.next = 0;
  state.position = micros;
  feed();
}

function feed() {
  while (state.next < state.frames.length && state.frames[state.next].micros <= state.position) {
    state.channel.deliver(state.frames[state.next].bytes);
    state.next += 1;
  }
  showTime();
}

function tick(now) {
  if (state.playing) {
    state.position = Math.min(state.duration, state.position + (now - state.last) * 1000 * Number(speed.value));
    state.last = now;
    feed();
    if (state.position >= state.duration) {
      pause('ended');
      return;
    }
    requestAnimationFrame(tick);
  }
}

function start() {
  if (state.position >= state.duration) {
    restart(0);
  }
  state.playing = true;
  state.last = performance.now();
  play.textContent = text('Pause');
  show('playing');
  requestAnimationFrame(tick);
}

function pause(kind) {
  state.playing = false;
  play.textContent = text('Play');
  show(kind);
}

play.addEventListener('click', () => (state.playing ? pause('paused') : start()));

seek.addEventListener('input', () => {
  const wasPlaying = state.playing;
  state.playing = false;
  restart(Number(seek.value) * 1000);
  if (wasPlaying) {
    start();
  } else {
    show('paused');
  }
});

try {
  const response = await fetch(`/audit/recordings/file?path=${encodeURIComponent(root.dataset.file)}`, { credentials: 'same-origin' });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  state.frames = parse(new Uint8Array(await response.arrayBuffer()));
  state.duration = state.frames.length > 0 ? state.frames[state.frames.length - 1].micros : 0;
  seek.max = String(Math.ceil(state.duration / 1000));
  seek.disabled = false;
  play.disabled = false;
  restart(0);
  show('ready');
} catch (error) {
  status.textContent = `${text('Failed')} ${error.message}`;
  status.dataset.state = 'failed';
}
