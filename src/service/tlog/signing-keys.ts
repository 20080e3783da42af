import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import { insertLogKeyIfNone, type LogKeyRow, selectLogKey } from "../../store/log-keys-sql.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import { generateSigner, type NoteSigner, signerFromPrivateKey } from "../../tlog/index.ts";

// The log signing key of each tenant: generated on first use, then stored
// either sealed in `log_keys` (AES-256-GCM under scrypt(CLEARSPLIT_SECRET)) or
// as a file in a configured directory. Its vkey is always recorded in
// `log_keys`, insert-only, so the served vkey and `verify db` agree with what signed.

export const default_log_host = "clearsplit.local";
/** Development only: anyone who reads this source can open keys sealed with it. */
export const dev_secret = "clearsplit-dev-secret-not-for-production";
const scrypt_salt_bytes = 16;
const gcm_nonce_bytes = 12;
const gcm_tag_bytes = 16;
const sealed_aad = Buffer.from("clearsplit log key v1", "utf8");

export interface LogKeyOptions {
  /** Origin prefix: the origin of tenant T is `<host>/<T>`. */
  host?: string | undefined;
  /** Sealing secret; the dev default is used (and reported) when absent. */
  secret?: string | undefined;
  /** When set, private keys live in `<key_dir>/<tenant>.key` (mode 0600) instead of the database. */
  key_dir?: string | undefined;
}

/** CLEARSPLIT_LOG_HOST, CLEARSPLIT_SECRET, CLEARSPLIT_LOG_KEY_DIR. */
export function logKeyOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LogKeyOptions {
  return {
    host: env.CLEARSPLIT_LOG_HOST || undefined,
    secret: env.CLEARSPLIT_SECRET || undefined,
    key_dir: env.CLEARSPLIT_LOG_KEY_DIR || undefined,
  };
}

export class LogKeyStore {
  readonly host: string;
  readonly usesDevSecret: boolean;
  readonly #secret: string;
  readonly #key_dir: string | undefined;
  readonly #signers = new Map<string, Promise<NoteSigner>>();

  constructor(options: LogKeyOptions = {}) {
    this.host = (options.host ?? default_log_host).replace(/\/+$/, "");
    assert(this.host.length > 0 && !/\s|\+/.test(this.host), "log host must be non-empty, no spaces or '+'");
    this.#secret = options.secret ?? dev_secret;
    this.usesDevSecret = options.secret === undefined && options.key_dir === undefined;
    this.#key_dir = options.key_dir;
  }

  origin(tenant_id: string): string {
    return `${this.host}/${tenant_id}`;
  }

  /** The tenant's signer, creating and storing its key on first use. Cached per process. */
  signer(db: Queryable, tenant_id: string): Promise<NoteSigner> {
    let signer = this.#signers.get(tenant_id);
    if (!signer) {
      signer = this.#load(db, tenant_id);
      this.#signers.set(tenant_id, signer);
      signer.catch(() => this.#signers.delete(tenant_id));
    }
    return signer;
  }

  async #load(db: Queryable, tenant_id: string): Promise<NoteSigner> {
    const origin = this.origin(tenant_id);
    const stored = await selectKeyRow(db, tenant_id);
    if (stored) return this.#open(stored, origin);
    const candidate = this.#key_dir ? await this.#fileSigner(tenant_id, origin) : generateSigner(origin);
    const sealed = this.#key_dir ? null : await this.#seal(candidate.privateKeyText);
    // Two processes may race on first start: the first insert wins and both use its key.
    await insertLogKeyIfNone(db, tenant_id, {
      origin,
      vkey: candidate.vkey,
      sealed_key_hex: sealed?.toString("hex") ?? null,
    });
    const row = await selectKeyRow(db, tenant_id);
    assert(row !== undefined, `log key of ${tenant_id} vanished after insert`);
    // Our insert won: the key is the one in hand, no need to unseal it again (scrypt is slow on purpose).
    if (row.vkey === candidate.vkey && row.origin === origin) return candidate;
    return this.#open(row, origin);
  }

  async #open(row: KeyRow, origin: string): Promise<NoteSigner> {
    if (row.origin !== origin) {
      throw new Error(
        `log key of tenant ${row.tenant_id} was made for origin ${row.origin}, but CLEARSPLIT_LOG_HOST gives ${origin}`,
      );
    }
    const signer = row.sealed_key
      ? signerFromPrivateKey(await this.#unseal(Buffer.from(row.sealed_key), row.tenant_id))
      : await this.#fileSigner(row.tenant_id, origin, false);
    if (signer.vkey !== row.vkey)
      throw new Error(`the private log key of ${row.tenant_id} does not match its recorded vkey ${row.vkey}`);
    return signer;
  }

  async #fileSigner(tenant_id: string, origin: string, create = true): Promise<NoteSigner> {
    if (!this.#key_dir)
      throw new Error(`log key of ${tenant_id} is kept in a file, but CLEARSPLIT_LOG_KEY_DIR is not set`);
    const path = join(this.#key_dir, `${tenant_id}.key`);
    if (existsSync(path)) return signerFromPrivateKey(await readFile(path, "utf8"));
    if (!create) throw new Error(`log key file ${path} is missing`);
    await mkdir(this.#key_dir, { recursive: true, mode: 0o700 });
    const signer = generateSigner(origin);
    try {
      await writeFile(path, `${signer.privateKeyText}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return signerFromPrivateKey(await readFile(path, "utf8"));
    }
    return signer;
  }

  async #seal(text: string): Promise<Buffer> {
    const salt = randomBytes(scrypt_salt_bytes);
    const nonce = randomBytes(gcm_nonce_bytes);
    const cipher = createCipheriv("aes-256-gcm", await this.#derive(salt), nonce);
    cipher.setAAD(sealed_aad);
    const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
    return Buffer.concat([salt, nonce, body, cipher.getAuthTag()]);
  }

  async #unseal(sealed: Buffer, tenant_id: string): Promise<string> {
    assert(sealed.length > scrypt_salt_bytes + gcm_nonce_bytes + gcm_tag_bytes, "sealed key is too short");
    const salt = sealed.subarray(0, scrypt_salt_bytes);
    const nonce = sealed.subarray(scrypt_salt_bytes, scrypt_salt_bytes + gcm_nonce_bytes);
    const body = sealed.subarray(scrypt_salt_bytes + gcm_nonce_bytes, sealed.length - gcm_tag_bytes);
    const decipher = createDecipheriv("aes-256-gcm", await this.#derive(salt), nonce);
    decipher.setAAD(sealed_aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - gcm_tag_bytes));
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      throw new Error(
        `cannot open the log key of ${tenant_id}: CLEARSPLIT_SECRET is not the one that sealed it`,
      );
    }
  }

  /** scrypt on libuv's thread pool, not scryptSync: a server deriving a new tenant's key keeps serving meanwhile. */
  #derive(salt: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) =>
      scrypt(this.#secret, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (error, key) =>
        error === null ? resolve(key) : reject(error),
      ),
    );
  }
}

type KeyRow = LogKeyRow;

function selectKeyRow(db: Queryable, tenant_id: string): Promise<KeyRow | undefined> {
  return selectLogKey(db, tenant_id);
}

/** The recorded vkey of a tenant's log, or undefined before its first start. */
export async function logVkey(db: Queryable, tenant_id: string): Promise<string | undefined> {
  return (await selectKeyRow(db, tenant_id))?.vkey;
}

/**
 * Makes sure every tenant has a log key and returns one printable line per
 * tenant (`log <origin> vkey <vkey>`), for `clearsplit serve` to print at startup.
 */
export async function ensureLogKeys(
  db: Queryable,
  keys: LogKeyStore,
  tenant_ids?: readonly string[],
): Promise<string[]> {
  const tenants = tenant_ids ?? (await selectTenantIds(db));
  const lines: string[] = [];
  for (const tenant_id of tenants) {
    const signer = await keys.signer(db, tenant_id);
    lines.push(`log ${keys.origin(tenant_id)} vkey ${signer.vkey}`);
  }
  if (keys.usesDevSecret && lines.length > 0)
    lines.push("warning: log keys are sealed with the development secret; set CLEARSPLIT_SECRET");
  return lines;
}
