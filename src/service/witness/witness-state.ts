import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  generateSigner,
  type NoteSigner,
  signature_type_cosignature_v1,
  signerFromPrivateKey,
} from "../../tlog/note-signer.ts";
import type { WitnessState } from "../../tlog/witness.ts";
import { fromBase64Strict, toBase64 } from "../../verify/index.ts";

// A witness's state directory: `witness.key` (its private key, created on first
// start) and `state.json` (the last checkpoint it cosigned). The state is
// replaced atomically and fsynced before any cosignature leaves the process.

const key_file = "witness.key";
const state_file = "state.json";

export async function loadWitnessSigner(dir: string, name: string): Promise<NoteSigner> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, key_file);
  if (existsSync(path)) return signerFromPrivateKey(await readFile(path, "utf8"));
  const signer = generateSigner(name, signature_type_cosignature_v1);
  await writeFile(path, `${signer.privateKeyText}\n`, { mode: 0o600, flag: "wx" });
  return signer;
}

export async function loadWitnessState(dir: string): Promise<WitnessState | null> {
  const path = join(dir, state_file);
  if (!existsSync(path)) return null;
  const saved = JSON.parse(await readFile(path, "utf8")) as { origin: string; size: string; root: string };
  const rootHash = fromBase64Strict(saved.root);
  if (rootHash === undefined || rootHash.length !== 32)
    throw new Error(`${path}: root is not base64 of 32 bytes`);
  return { origin: saved.origin, size: BigInt(saved.size), rootHash };
}

export async function saveWitnessState(dir: string, state: WitnessState): Promise<void> {
  const path = join(dir, state_file);
  const temporary = `${path}.tmp`;
  const body = JSON.stringify({
    origin: state.origin,
    size: state.size.toString(),
    root: toBase64(state.rootHash),
  });
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(`${body}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
