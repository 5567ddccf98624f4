import { columnName, datasetName, type DataContract } from './contract.js';

/**
 * The dataset an expectation result belongs to, from its Great Expectations kwargs: the only
 * dataset of a one-dataset contract, else the one dataset whose contract declares its column.
 * Null when that cannot be told (a table-level expectation of a many-dataset contract, or a column
 * several datasets declare). Results carry kwargs, not the dataset, so lineage facets and the
 * release-readiness matrix both need this.
 */
export function expectationDataset(contract: DataContract, kwargs: { column?: unknown; column_list?: unknown }): string | null {
  if (contract.schema.length === 1) return datasetName(contract.schema[0]!);
  const column = typeof kwargs.column === 'string' ? kwargs.column : Array.isArray(kwargs.column_list) && typeof kwargs.column_list[0] === 'string' ? kwargs.column_list[0] : undefined;
  if (!column) return null;
  const owners = contract.schema.filter((o) => o.properties.some((p) => columnName(p) === column));
  return owners.length === 1 ? datasetName(owners[0]!) : null;
}
