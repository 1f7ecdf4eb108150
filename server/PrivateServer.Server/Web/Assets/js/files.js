// The viewer's file panel: the file-transfer protocol (FileTransferProtocol.cs) on a relay stream to the host's
// 'files' service. Each request and reply is a frame (4-byte big-endian length, then JSON); file bytes follow raw.
// Every transfer is checked with SHA-256 (the browser's crypto.subtle) end to end; the host reports it to the audit
// trail. crypto.subtle hashes whole buffers only, so the browser moves files up to MaxBrowserFile; larger ones go
// with the supporter module's send/fetch. Nothing here talks to another origin.

export const MaxBrowserFile = 256 * 1024 * 1024;
const Chunk = 256 * 1024;
const MaxFrame = 256 * 1024;
const HighWater = 4 * 1024 * 1024;

/** A byte stream over one binary WebSocket (after its ticket): exact reads, framed JSON, paced writes. */
export class FileStream {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.buffered = 0;
    this.closed = false;
    this.wake = null;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) {
        this.chunks.push(new Uint8Array(event.data));
        this.buffered += event.data.byteLength;
        this.notify();
      }
    });
    socket.addEventListener('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  notify() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Exactly count bytes, or an error when the stream ends first. */
  async read(count) {
    while (this.buffered < count) {
      if (this.closed) {
        throw new Error('the file-transfer stream ended');
      }
      await new Promise((resolve) => { this.wake = resolve; });
    }
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.chunks[0];
      const take = Math.min(head.length, count - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) {
        this.chunks.shift();
      } else {
        this.chunks[0] = head.subarray(take);
      }
    }
    this.buffered -= count;
    return out;
  }

  async readFrame() {
    const header = await this.read(4);
    const length = new DataView(header.buffer).getInt32(0);
    if (length <= 0 || length > MaxFrame) {
      throw new Error(`a file-transfer frame of ${length} bytes`);
    }
    return JSON.parse(new TextDecoder().decode(await this.read(length)));
  }

  async ask(request) {
    await this.write(frame(request));
    return this.reply();
  }

  async reply() {
    const answer = await this.readFrame();
    if (!answer.ok) {
      throw new Error(answer.error || 'the host refused');
    }
    return answer;
  }

  /** Sends bytes, waiting while the socket holds more than HighWater unsent. */
  async write(bytes) {
    while (this.socket.bufferedAmount > HighWater) {
      if (this.closed) {
        throw new Error('the file-transfer stream ended');
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) {
      throw new Error('the file-transfer stream ended');
    }
    this.socket.send(bytes);
  }

  close() {
    this.socket.close(1000, 'done');
  }
}

function frame(message) {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const bytes = new Uint8Array(4 + json.length);
  new DataView(bytes.buffer).setInt32(0, json.length);
  bytes.set(json, 4);
  return bytes;
}

export async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The entries of a folder ('' is the shared folder itself). */
export async function list(stream, path) {
  return (await stream.ask({ op: 'list', path })).entries ?? [];
}

/** Uploads a File to path; returns how many bytes the host already had (an interrupted upload continues). */
export async function upload(stream, file, path, progress) {
  const buffer = await file.arrayBuffer();
  const hash = await sha256Hex(buffer);
  const start = await stream.ask({ op: 'put', path, size: buffer.byteLength, sha256: hash });
  const offset = start.offset ?? 0;
  for (let at = offset; at < buffer.byteLength; at += Chunk) {
    await stream.write(new Uint8Array(buffer, at, Math.min(Chunk, buffer.byteLength - at)));
    progress?.(at, buffer.byteLength);
  }
  const done = await stream.reply();
  if (done.sha256 !== hash) {
    throw new Error(`the host stored the SHA-256 ${done.sha256}, not ${hash}`);
  }
  return offset;
}

/** Downloads path; returns a Blob whose SHA-256 matched the host's. */
export async function download(stream, path, progress) {
  const start = await stream.ask({ op: 'get', path, offset: 0 });
  const size = start.size;
  if (size > MaxBrowserFile) {
    // The host sends it anyway: take it off the stream to keep it in step, then refuse.
    for (let left = size; left > 0; left -= Math.min(Chunk, left)) {
      await stream.read(Math.min(Chunk, left));
    }
    throw new Error('too large for the browser');
  }
  const data = new Uint8Array(size);
  for (let at = 0; at < size; at += Chunk) {
    data.set(await stream.read(Math.min(Chunk, size - at)), at);
    progress?.(at, size);
  }
  const hash = await sha256Hex(data);
  if (hash !== start.sha256) {
    throw new Error(`arrived with the SHA-256 ${hash}, not ${start.sha256}`);
  }
  return new Blob([data]);
}
