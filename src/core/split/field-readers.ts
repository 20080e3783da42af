import { DomainError } from "../errors.ts";
import { amountFromInput } from "../money.ts";

// Small readers for untrusted JSON. Each names the field path it rejects, so a
// caller can point a person at `lines[1].qty` rather than at "bad input".
export type JsonObject = Record<string, unknown>;

export function readObject(value: unknown, field: string, allowed: readonly string[]): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DomainError("field_not_object", `${field} must be a JSON object`, field);
  }
  const object = value as JsonObject;
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new DomainError(
        "field_unknown",
        `${join(field, key)} is not a known field (known: ${allowed.join(", ")})`,
        join(field, key),
      );
    }
  }
  return object;
}

export function readArray(value: unknown, field: string, length_max: number): unknown[] {
  if (!Array.isArray(value)) throw new DomainError("field_not_array", `${field} must be a JSON array`, field);
  if (value.length > length_max) {
    throw new DomainError(
      "field_too_long",
      `${field} has ${value.length} entries; at most ${length_max} are allowed`,
      field,
    );
  }
  return value;
}

export function readString(value: unknown, field: string, length_max: number, pattern?: RegExp): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new DomainError("field_not_string", `${field} must be a non-empty string`, field);
  }
  if (value.length > length_max) {
    throw new DomainError(
      "field_too_long",
      `${field} is ${value.length} characters long; at most ${length_max} are allowed`,
      field,
    );
  }
  if (pattern && !pattern.test(value)) {
    throw new DomainError(
      "field_invalid",
      `${field} must match ${pattern}, got ${JSON.stringify(value)}`,
      field,
    );
  }
  return value;
}

export function readInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new DomainError(
      "field_not_integer",
      `${field} must be an integer, got ${JSON.stringify(value)}`,
      field,
    );
  }
  if (value < min || value > max) {
    throw new DomainError(
      "field_out_of_range",
      `${field} must be between ${min} and ${max}, got ${value}`,
      field,
    );
  }
  return value;
}

export function readEnum<T extends string>(value: unknown, field: string, options: readonly T[]): T {
  if (typeof value !== "string" || !(options as readonly string[]).includes(value)) {
    throw new DomainError(
      "field_invalid",
      `${field} must be one of ${options.join(", ")}, got ${JSON.stringify(value)}`,
      field,
    );
  }
  return value as T;
}

export function readBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean")
    throw new DomainError("field_not_boolean", `${field} must be true or false`, field);
  return value;
}

/** An amount in minor units: a JSON integer from 0 (when allowed) up to 2^53-1. */
export function readMinor(value: unknown, field: string, allow_zero: boolean): bigint {
  return amountFromInput(value, field, allow_zero);
}

export function join(field: string, key: string): string {
  return field === "" ? key : `${field}.${key}`;
}
