import type { OperatorService } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { COLDTIER_STATUS, COLDTIER_TABLES } from '../workflows/search-attributes';
import { SearchAttributesMissingError } from './errors';

/** The custom search attributes coldtier workflows upsert, with their Temporal index types. */
export const SEARCH_ATTRIBUTES = [COLDTIER_TABLES, COLDTIER_STATUS].map((k) => ({
  name: k.name,
  type: encodeSearchAttributeIndexedValueType(k.type)!,
  /** The `--type` of `temporal operator search-attribute create`. */
  cli: k.type === 'KEYWORD_LIST' ? 'KeywordList' : 'Keyword',
}));

/** The commands an operator runs once per namespace on a real cluster. */
export function createCommands(namespace: string): string[] {
  return SEARCH_ATTRIBUTES.map((a) => `temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.cli}`);
}

export interface EnsureResult {
  /** Attributes this call added (empty when they were all there). */
  added: string[];
}

const ALREADY_EXISTS = 6; // gRPC status code

/**
 * Makes sure the namespace has ColdtierTables and ColdtierStatus, adding the missing ones. Upserting an unknown
 * search attribute fails the workflow task over and over (the run hangs), so the worker calls this before it polls.
 * Concurrent callers may race to add the same attribute: "already exists" counts as success.
 * @throws SearchAttributesMissingError when they are missing and this identity may not add them (Temporal Cloud,
 *   restricted operator API): the message has the commands to run.
 */
export async function ensureSearchAttributes(operator: OperatorService, namespace: string): Promise<EnsureResult> {
  const missing = async () => {
    const res = await operator.listSearchAttributes({ namespace });
    const have = { ...res.customAttributes, ...res.systemAttributes };
    return SEARCH_ATTRIBUTES.filter((a) => {
      const t = have[a.name];
      if (t !== undefined && t !== a.type) {
        throw new SearchAttributesMissingError(namespace, `search attribute ${a.name} exists in namespace ${namespace} with another index type (${t}); coldtier needs ${a.cli}`);
      }
      return t === undefined;
    });
  };
  const todo = await missing();
  if (!todo.length) return { added: [] };
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(todo.map((a) => [a.name, a.type])) });
  } catch (err) {
    const e = err as { code?: number; message?: string };
    if (e.code !== ALREADY_EXISTS && !/already exists/i.test(e.message ?? '')) {
      throw new SearchAttributesMissingError(
        namespace,
        `temporal namespace ${namespace} lacks search attributes ${todo.map((a) => a.name).join(', ')} and adding them failed (${e.message ?? String(err)}); run: ${createCommands(namespace).join(' && ')}`,
        { cause: err },
      );
    }
  }
  return { added: todo.map((a) => a.name) };
}
