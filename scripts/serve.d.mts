/** A running server of scripts/serve.mjs. */
export interface Server {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

export function startServer(options?: { port?: number; dir?: string }): Promise<Server>;
