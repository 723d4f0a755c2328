// Custom search attributes of coldtier workflows. Pure definitions: imported by workflow code (bundled into the
// sandbox) and by the client side that registers them (`coldtier schedules apply`, worker start).
import { defineSearchAttributeKey } from '@temporalio/common';

/** The tables a run works on (Web UI / `temporal workflow list --query "ColdtierTables = 'silver_trades'"`). */
export const COLDTIER_TABLES = defineSearchAttributeKey('ColdtierTables', 'KEYWORD_LIST');
/** running while it works, then ok | partial | failed. */
export const COLDTIER_STATUS = defineSearchAttributeKey('ColdtierStatus', 'KEYWORD');

export type ColdtierStatus = 'running' | 'ok' | 'partial' | 'failed';
