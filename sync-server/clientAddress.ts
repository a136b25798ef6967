import type http from "node:http";
import { isIP } from "node:net";

/**
 * The address of the client that made a request, for logs and per-address limits.
 *
 * Behind a reverse proxy every TCP connection comes from the proxy, so the socket's
 * address is the proxy's for every writer: logs cannot tell writers apart, and a limit
 * per address would put every writer in one bucket. With `trustProxy` (only then: anyone
 * can send the header to a relay that is reachable directly), the address is the last
 * entry of X-Forwarded-For, which is the one the relay's own proxy appended (Caddy and
 * nginx's `$proxy_add_x_forwarded_for` append the address they saw). Entries before it
 * were written by whoever connected to the proxy and prove nothing.
 */
export function clientAddress(req: http.IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? "";
  if (!trustProxy) return socketAddress;
  const header = req.headers["x-forwarded-for"];
  // Several headers are joined in order; the last entry of the last one is the proxy's.
  const joined = Array.isArray(header) ? header.join(",") : header;
  const last = joined?.split(",").pop()?.trim();
  if (!last) return socketAddress;
  // "[2001:db8::1]:443" and "192.0.2.1:5000" forms, which some proxies write.
  const address = /^\[([^\]]+)\](?::\d+)?$/.exec(last)?.[1] ?? (/^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(last)?.[1] ?? last);
  // A header that is not an address (a proxy misconfigured, or a client talking to the
  // relay directly) is not believed: the socket's address is at least true.
  return isIP(address) ? address : socketAddress;
}
