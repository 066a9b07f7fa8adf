// --inspect-port: the live view, served by the loop it shows. A third
// listening socket (loopback only) joins the same poll set as the book and
// RESP listeners, and speaks just enough HTTP/1.1 for three things:
//
//   GET  /         the page (src/inspect/page.ts: one static HTML file)
//   GET  /events   a server-sent-events stream: each finished iteration's
//                  structured trace record (docs/trace-json.md), and the
//                  stepper's state (paused before iteration n / running)
//   POST /pause, /step, /continue   the step controls (--step's gate)
//
// The inspector's listener and its connections are *watched fds* of the loop
// (like the signal pipe and stdin in step mode), not connections of the data
// pipeline: so the paused poll of step mode keeps serving them (a paused
// loop must still hear "Step"), and they never touch the keyspace, the
// client list or maxclients. They do appear in every pollfd array, labelled
// `inspector-listener` and `inspector 127.0.0.1:PORT` — the page is an fd in
// the poll set it draws. Its own reads and writes are made with the plain
// syscalls, not the traced ones: were they traced, each record sent would
// create the next record, and watching would make the traffic it watches.
//
// Limits: at most MAX_CLIENTS inspector connections (more are answered 503
// and closed), request heads of at most MAX_HEAD bytes, and at most
// MAX_PENDING bytes owed to an events stream that does not read: past that,
// that page is cut off, as any client over its output limit. Writes are
// non-blocking; what a stream could not take waits for the next record.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import type { EventLoop } from '../loop/loop.js';
import type { Stepper } from '../loop/step.js';
import type { Tracer } from '../loop/trace.js';
import { listenTcp } from '../servers/listen.js';
import { PAGE_HTML } from './page.js';

const MAX_CLIENTS = 16;
const MAX_HEAD = 8192;
const MAX_PENDING = 4 << 20;

interface Client {
  fd: number;
  head: string;
  /** An events stream (kept open); otherwise one request, one response, close. */
  stream: boolean;
  pending: Buffer[];
  pendingBytes: number;
}

export class Inspector {
  readonly port: number;
  private readonly fd: number;
  private readonly clients = new Map<number, Client>();
  private readonly buf = Buffer.alloc(4096);
  /** Iterations recorded since start (shown on connect). */
  private last: string | null = null;
  private acceptPaused = false;

  constructor(
    private readonly loop: EventLoop,
    private readonly tracer: Tracer,
    private readonly stepper: Stepper,
    port: number,
    private readonly backend: string,
    private readonly log: (line: string) => void,
  ) {
    const l = listenTcp('127.0.0.1', port);
    this.fd = l.fd;
    this.port = l.port;
    tracer.label(this.fd, 'inspector-listener');
    loop.addWatch(this.fd, () => this.accept());
    stepper.onPause = (n) => this.broadcast('paused', JSON.stringify({ iteration: n }));
    stepper.onResume = () => this.broadcast('running', '{}');
  }

  /** The structured trace's sink: each finished iteration goes to every open page. */
  record(line: string): void {
    this.last = line;
    this.broadcast('iteration', line);
  }

  private accept(): void {
    for (let i = 0; i < 16; i++) {
      const fd = sys.accept(this.fd);
      if (fd === -C.EAGAIN || fd === -C.EINTR) return;
      if (fd < 0) {
        // Out of fds (EMFILE): stop accepting for a second rather than spin on a readable listener.
        this.log(`inspector: accept failed (${sys.errnoName(fd)}); not accepting for 1 s`);
        this.acceptPaused = true;
        this.loop.removeWatch(this.fd);
        this.loop.timers.add(this.loop.now() + 1000, () => {
          this.acceptPaused = false;
          this.loop.addWatch(this.fd, () => this.accept());
        }, 'inspector accept retry');
        return;
      }
      sys.setNonBlocking(fd);
      if (this.clients.size >= MAX_CLIENTS) {
        this.writeRaw(fd, Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
        sys.close(fd);
        continue;
      }
      const c: Client = { fd, head: '', stream: false, pending: [], pendingBytes: 0 };
      this.clients.set(fd, c);
      const p = sys.getpeername(fd);
      this.tracer.label(fd, `inspector ${p === null ? '?' : `${p.address}:${p.port}`}`);
      this.loop.addWatch(fd, () => this.onReadable(c));
    }
  }

  private onReadable(c: Client): void {
    const n = sys.read(c.fd, this.buf, 0, this.buf.length);
    if (n === -C.EAGAIN || n === -C.EINTR) return;
    if (n <= 0) return this.close(c);
    if (c.stream) return; // a page says nothing more on its events stream; ignore it
    c.head += this.buf.latin1Slice(0, n);
    const end = c.head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (c.head.length > MAX_HEAD) this.respond(c, 431, 'text/plain', 'request head too large\n');
      return;
    }
    const [method, path] = c.head.slice(0, c.head.indexOf('\r\n')).split(' ');
    this.route(c, method, path ?? '');
  }

  private route(c: Client, method: string, path: string): void {
    const url = path.split('?')[0];
    if (method === 'GET' && (url === '/' || url === '/index.html')) return this.respond(c, 200, 'text/html; charset=utf-8', PAGE_HTML);
    if (method === 'GET' && url === '/events') return this.openStream(c);
    if (method === 'POST' && (url === '/pause' || url === '/step' || url === '/continue')) {
      if (url === '/pause') this.stepper.pause();
      else if (url === '/step') this.stepper.step();
      else this.stepper.resume();
      this.tracer.note(`inspector: ${url.slice(1)}`);
      return this.respond(c, 204, 'text/plain', '');
    }
    if (method !== 'GET' && method !== 'POST') return this.respond(c, 405, 'text/plain', 'GET or POST\n');
    this.respond(c, 404, 'text/plain', 'not found\n');
  }

  private respond(c: Client, status: number, type: string, body: string): void {
    const reason: Record<number, string> = { 200: 'OK', 204: 'No Content', 404: 'Not Found', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large' };
    const bytes = Buffer.from(body, 'utf8');
    const head = `HTTP/1.1 ${status} ${reason[status] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n`;
    // Small responses into an empty loopback socket: written whole, or the page retries.
    this.writeRaw(c.fd, Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
    this.close(c);
  }

  private openStream(c: Client): void {
    c.stream = true;
    c.head = '';
    const hello = JSON.stringify({ mode: 'live', backend: this.backend, paused: this.stepper.isPaused, iteration: this.tracer.current, last: this.last === null ? null : JSON.parse(this.last) });
    this.send(c, `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nevent: hello\ndata: ${hello}\n\n`);
  }

  private broadcast(event: string, data: string): void {
    if (this.clients.size === 0) return;
    const msg = `event: ${event}\ndata: ${data}\n\n`;
    for (const c of this.clients.values()) if (c.stream) this.send(c, msg);
  }

  /** Writes what the stream owes, then msg; cuts off a page that stopped reading. */
  private send(c: Client, msg: string): void {
    c.pending.push(Buffer.from(msg, 'utf8'));
    c.pendingBytes += c.pending[c.pending.length - 1].length;
    while (c.pending.length > 0) {
      const b = c.pending[0];
      const n = sys.write(c.fd, b, 0, b.length);
      if (n === -C.EAGAIN || n === -C.EINTR) break;
      if (n < 0) return this.close(c);
      c.pendingBytes -= n;
      if (n === b.length) c.pending.shift();
      else {
        c.pending[0] = b.subarray(n);
        break;
      }
    }
    if (c.pendingBytes > MAX_PENDING) {
      this.log(`inspector: a page stopped reading (${c.pendingBytes} bytes owed); closing it`);
      this.close(c);
    }
  }

  private writeRaw(fd: number, b: Buffer): void {
    sys.write(fd, b, 0, b.length);
  }

  private close(c: Client): void {
    if (!this.clients.delete(c.fd)) return;
    this.loop.removeWatch(c.fd);
    sys.close(c.fd);
    this.tracer.unlabel(c.fd);
  }

  /** At shutdown. */
  closeAll(): void {
    for (const c of [...this.clients.values()]) this.close(c);
    if (!this.acceptPaused) this.loop.removeWatch(this.fd);
    sys.close(this.fd);
  }
}
