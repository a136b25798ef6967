/**
 * An in-process network for property tests that decides when every message arrives.
 *
 * Each Repo gets a SwitchboardAdapter; the Switchboard links every pair of them. A link
 * is a pair of FIFO queues (one per direction, as a socket is) that nothing drains by
 * itself: the test delivers messages one at a time, choosing the link at random, so
 * the interleaving between peers is the test's to choose. Cutting a link drops what is
 * queued on it (bytes in flight on a dead socket) and tells both Repos the peer left;
 * healing it introduces them again, as a reconnect does. Messages cross as CBOR bytes,
 * so no object is shared between Repos.
 */
import { NetworkAdapter, cbor, type Message, type PeerId, type PeerMetadata } from "@automerge/automerge-repo";

type Link = { a: SwitchboardAdapter; b: SwitchboardAdapter; up: boolean; toA: Uint8Array[]; toB: Uint8Array[] };

export class Switchboard {
  readonly #adapters = new Set<SwitchboardAdapter>();
  readonly #links = new Map<string, Link>();
  /** Links the test cut, by pair key, remembered across restarts of either side. */
  readonly #cut = new Set<string>();
  /** Messages delivered and dropped so far. */
  delivered = 0;
  dropped = 0;

  adapter(name: string): SwitchboardAdapter {
    return new SwitchboardAdapter(this, name);
  }

  /** @internal An adapter became ready (its Repo called connect). */
  attach(adapter: SwitchboardAdapter): void {
    this.#adapters.add(adapter);
    for (const other of this.#adapters) {
      if (other === adapter || other.peerId === undefined) continue;
      const key = pairKey(adapter.name, other.name);
      const link: Link = { a: adapter, b: other, up: false, toA: [], toB: [] };
      this.#links.set(key, link);
      if (!this.#cut.has(key)) this.#raise(link);
    }
  }

  /** @internal An adapter went away (its Repo shut down, or its process "crashed"). */
  detach(adapter: SwitchboardAdapter): void {
    if (!this.#adapters.delete(adapter)) return;
    for (const [key, link] of this.#links) {
      if (link.a !== adapter && link.b !== adapter) continue;
      this.#lower(link);
      this.#links.delete(key);
    }
  }

  /** @internal */
  send(from: SwitchboardAdapter, message: Message): void {
    const link = [...this.#links.values()].find((l) => l.up && ((l.a === from && l.b.peerId === message.targetId) || (l.b === from && l.a.peerId === message.targetId)));
    if (!link) {
      this.dropped++;
      return;
    }
    (link.a === from ? link.toB : link.toA).push(cbor.encode(message));
  }

  /** Cuts (up = false) or heals the link between two named peers. */
  setLink(x: string, y: string, up: boolean): void {
    const key = pairKey(x, y);
    if (up) this.#cut.delete(key);
    else this.#cut.add(key);
    const link = this.#links.get(key);
    if (!link) return;
    if (up) this.#raise(link);
    else this.#lower(link);
  }

  healAll(): void {
    for (const key of [...this.#cut]) {
      const [x, y] = key.split("|") as [string, string];
      this.setLink(x, y, true);
    }
  }

  /** Messages waiting on all links. */
  get queued(): number {
    let n = 0;
    for (const link of this.#links.values()) n += link.toA.length + link.toB.length;
    return n;
  }

  /**
   * Delivers the oldest message of one direction of one link, both chosen by `pick`
   * (a random source in [0, n)); false when nothing is queued.
   */
  deliverOne(pick: (n: number) => number): boolean {
    const queues: { to: SwitchboardAdapter; queue: Uint8Array[] }[] = [];
    for (const link of this.#links.values()) {
      if (link.toA.length > 0) queues.push({ to: link.a, queue: link.toA });
      if (link.toB.length > 0) queues.push({ to: link.b, queue: link.toB });
    }
    if (queues.length === 0) return false;
    const { to, queue } = queues[pick(queues.length)]!;
    const bytes = queue.shift()!;
    this.delivered++;
    to.emit("message", cbor.decode(bytes) as Message);
    return true;
  }

  #raise(link: Link): void {
    if (link.up) return;
    link.up = true;
    link.a.emit("peer-candidate", { peerId: link.b.peerId!, peerMetadata: link.b.peerMetadata ?? {} });
    link.b.emit("peer-candidate", { peerId: link.a.peerId!, peerMetadata: link.a.peerMetadata ?? {} });
  }

  #lower(link: Link): void {
    if (!link.up) return;
    link.up = false;
    this.dropped += link.toA.length + link.toB.length;
    link.toA = [];
    link.toB = [];
    link.a.emit("peer-disconnected", { peerId: link.b.peerId! });
    link.b.emit("peer-disconnected", { peerId: link.a.peerId! });
  }
}

export class SwitchboardAdapter extends NetworkAdapter {
  readonly #board: Switchboard;
  readonly name: string;
  #ready = false;

  constructor(board: Switchboard, name: string) {
    super();
    this.#board = board;
    this.name = name;
  }

  isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata;
    this.#ready = true;
    this.#board.attach(this);
  }

  send(message: Message): void {
    this.#board.send(this, message);
  }

  disconnect(): void {
    this.#board.detach(this);
  }
}

function pairKey(x: string, y: string): string {
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}
