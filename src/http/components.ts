import type { FastifyInstance } from "fastify";

// Named component schemas of the OpenAPI document (decisions §21). A schema
// declared with `component(name, schema)` is registered once with Fastify
// (`addSchema`, so request validation and the document share it) and every use
// is a `$ref`; the document lists it under `components.schemas.<name>`.

export type JsonSchema = Record<string, unknown>;

/** A reference to a named component, as written in a route schema. */
export interface ComponentRef {
  readonly $ref: string;
}

const components_max = 200;
const registry = new Map<string, JsonSchema>();
const component_name_pattern = /^[A-Z][A-Za-z0-9]{0,63}$/;

/** Declares the named component `name` and returns a reference to it. */
export function component(name: string, schema: JsonSchema): ComponentRef {
  if (!component_name_pattern.test(name)) throw new Error(`component name ${name} is not PascalCase`);
  if (registry.has(name)) throw new Error(`component ${name} is declared twice`);
  if (registry.size >= components_max) throw new Error(`more than ${components_max} components`);
  registry.set(name, { $id: name, ...schema });
  return componentRef(name);
}

/** A reference to a component declared elsewhere (checked when the app is built). */
export function componentRef(name: string): ComponentRef {
  return { $ref: `${name}#` };
}

/** Every declared component, by name, with its `$id`. */
export function declaredComponents(): ReadonlyMap<string, JsonSchema> {
  return registry;
}

/** Registers every declared component with the app, before any route uses one. */
export function registerComponents(app: FastifyInstance): void {
  for (const schema of registry.values()) app.addSchema(schema);
}

/** The name of the component a local `$ref` ("Name#") or document ref names, else null. */
export function componentNameOf(ref: string): string | null {
  const local = /^([A-Z][A-Za-z0-9]*)#$/.exec(ref);
  if (local !== null) return local[1]!;
  const document = /^#\/components\/schemas\/([A-Za-z0-9]+)$/.exec(ref);
  return document === null ? null : document[1]!;
}
