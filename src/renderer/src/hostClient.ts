import type { HostError, HostMethod, HostRequest, HostResults, HostTransport, ParamsOf } from "../../shared/api";

/** A host call that failed; `code` tells callers what happened without matching text. */
class HostCallError extends Error {
  readonly code: HostError["code"];
  constructor(error: HostError) {
    super(error.message);
    this.name = "HostCallError";
    this.code = error.code;
  }
}

/** Typed calls into the host; failures become HostCallError. */
export class HostClient {
  constructor(private readonly transport: HostTransport) {}

  async call<M extends HostMethod>(method: M, ...params: keyof ParamsOf<M> extends never ? [] : [ParamsOf<M>]): Promise<HostResults[M]> {
    const request = { method, ...(params[0] ?? {}) } as Extract<HostRequest, { method: M }>;
    const response = await this.transport.call<M>(request);
    if (!response.ok) throw new HostCallError(response.error);
    return response.value;
  }
}
