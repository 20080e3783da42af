import { v7 as uuidv7 } from "uuid";

// IDs are made in the application so a batch can reference its own rows before
// they exist, and so no hot table needs a global sequence.
export function newId(): string {
  return uuidv7();
}

const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return uuid_pattern.test(value);
}
