import { type ClearSplitClient, createClearSplitClient, isClearSplitError } from "../client/index.ts";
import { dataDirOwner } from "../store/data-dir-lock.ts";
import { embeddedDataDir } from "../store/open.ts";

// A CLI command that changes data reaches the database one of two ways
// (issue 12 §1, issue 19): directly, when it may open the database itself
// (PostgreSQL, or an embedded directory nobody else holds), or through the
// running server's API with the typed client, when a server owns the embedded
// directory or CLEARSPLIT_URL names one. Through the API it acts with an API
// key (CLEARSPLIT_KEY) like any other client: no back door, the server checks
// the role and records the security event. Without a key the command is
// refused (openDatabase throws DataDirLockedError, exit 2): nothing is ever
// reported done that did not happen.

export interface RemoteServer {
  readonly url: string;
  readonly client: ClearSplitClient;
  /** The tenant the key belongs to: a command's --tenant must name it. */
  readonly tenant_id: string;
}

/** Where a command should go: a server's API, or null to open the database itself. */
export async function remoteServer(): Promise<RemoteServer | null> {
  const key = process.env.CLEARSPLIT_KEY;
  const url =
    process.env.CLEARSPLIT_URL ??
    (process.env.DATABASE_URL ? null : (dataDirOwner(embeddedDataDir())?.url ?? null));
  if (url === null || !key) return null;
  const client = createClearSplitClient({ baseUrl: url, apiKey: key, retry: { attempts_max: 2 } });
  try {
    const me = (await client.me()) as { tenant_id: string };
    return { url, client, tenant_id: me.tenant_id };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the server at ${url} did not accept CLEARSPLIT_KEY (${reason}); nothing was written`);
  }
}

/** Runs `act` against the server, turning an API error into the CLI's plain message and exit 1. */
export async function throughServer(
  command: string,
  remote: RemoteServer,
  tenant_id: string,
  act: (client: ClearSplitClient) => Promise<void>,
): Promise<number> {
  if (tenant_id !== remote.tenant_id) {
    process.stderr.write(
      `${command}: CLEARSPLIT_KEY belongs to tenant ${remote.tenant_id}, not ${tenant_id}; nothing was written\n`,
    );
    return 2;
  }
  try {
    await act(remote.client);
    return 0;
  } catch (error) {
    if (!isClearSplitError(error)) throw error;
    const field = error.field ? ` (${error.field})` : "";
    process.stderr.write(`${command}: ${error.status} ${error.code}${field}: ${error.message}\n`);
    return 1;
  }
}
