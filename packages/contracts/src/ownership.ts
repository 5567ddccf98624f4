import { columnName, datasetName, type DataContract } from './contract.js';

/**
 * The dataset an expectation result belongs to, from its Great Expectations kwargs: the only
 * dataset of a one-dataset contract, else the one dataset whose contract declares its column.
 * Null when that cannot be told (a table-level expectation of a many-dataset contract, or a column
 * several datasets declare). Results carry kwargs, not the dataset, so lineage facets and the
 * release-readiness matrix both need this.
 */
export function expectationDataset(contract: DataContract, kwargs: { column?: unknown; column_list?: unknown }): string | null {
  return expectationDatasetOf(
    contract.schema.map((o) => ({ name: datasetName(o), fields: o.properties.map((p) => ({ name: columnName(p) })) })),
    kwargs,
  );
}

/** `expectationDataset` over the datasets a contract's facts list (dataset and column names). */
export function expectationDatasetOf(datasets: ReadonlyArray<{ name: string; fields: ReadonlyArray<{ name: string }> }>, kwargs: { column?: unknown; column_list?: unknown }): string | null {
  if (datasets.length === 1) return datasets[0]!.name;
  const column = typeof kwargs.column === 'string' ? kwargs.column : Array.isArray(kwargs.column_list) && typeof kwargs.column_list[0] === 'string' ? kwargs.column_list[0] : undefined;
  if (!column) return null;
  const owners = datasets.filter((d) => d.fields.some((f) => f.name === column));
  return owners.length === 1 ? owners[0]!.name : null;
}
