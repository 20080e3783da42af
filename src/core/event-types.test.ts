import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { event_type_entries, event_type_names, isEventType } from "./event-catalogue.ts";
import { event_types, languages } from "./notifications/event-types.ts";

// The one list of event types, its writers, the notifications registry and the
// documentation stay in step: a type added in one place and not the others
// fails here, naming the type.

const src = new URL("..", import.meta.url).pathname;
const placeholder = /\{([a-z_][a-z0-9_]{0,63})(?:\|money)?\}/g;

describe("event types", () => {
  it("are each written by the module the list names", () => {
    for (const name of event_type_names) {
      const entry = event_type_entries[name];
      const text = readFileSync(`${src}${entry.written_by}`, "utf8");
      expect(text.includes(`"${name}"`), `${entry.written_by} writes ${name}`).toBe(true);
      expect(text.includes("eventsWrite") || text.includes("enqueueEvents"), entry.written_by).toBe(true);
    }
  });

  it("have a notification spec for every told type, and the registry nothing else", () => {
    for (const name of event_type_names) {
      const internal = "internal" in event_type_entries[name];
      expect(event_types.has(name), name).toBe(!internal);
    }
    for (const type of event_types.keys()) expect(isEventType(type), type).toBe(true);
  });

  it("word their templates with the payload's own fields only, in every language", () => {
    for (const [type, spec] of event_types) {
      const fields: readonly string[] = isEventType(type) ? event_type_entries[type].fields : [];
      for (const language of languages) {
        const { title, body } = spec.templates[language];
        for (const [, field] of `${title} ${body}`.matchAll(placeholder))
          expect(fields, `${type} ${language} names {${field}}`).toContain(field);
      }
    }
  });

  it("are all documented in docs/notifications.md", () => {
    const docs = readFileSync(`${src}../docs/notifications.md`, "utf8");
    for (const name of event_type_names) {
      if ("internal" in event_type_entries[name]) continue;
      expect(docs.includes(`\`${name}\``), name).toBe(true);
    }
  });
});
