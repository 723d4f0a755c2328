// Partition specs and sort orders in their spec JSON shape (Appendix C).

export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: string;
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

export interface SortField {
  transform: string;
  'source-id': number;
  direction: 'asc' | 'desc';
  'null-order': 'nulls-first' | 'nulls-last';
}

export interface SortOrder {
  'order-id': number;
  fields: SortField[];
}

/** v2 partition field ids start at 1000 so they never collide with column ids in readers that mix them. */
export const PARTITION_FIELD_ID_START = 1000;
