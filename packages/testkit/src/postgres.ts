/** The postgres connector config that logs in to a local PostgreSQL fixture as `reader` (a type, so it is a Record). */
export type PostgresReaderConfig = {
  host: '127.0.0.1';
  port: number;
  database: 'postgres';
  user: 'reader';
  secretRef: 'test:reader';
  tls: { mode: 'disable' };
};

/**
 * Creates the login role `reader` with `password` on a local PostgreSQL fixture (a local-infra
 * DbServerHandle), runs `grants` (SQL, after the role exists), and answers the connector config that
 * reaches the fixture as that role. The spec's own `test` secret store answers `test:reader` with
 * the same password.
 */
export async function createPostgresReader(pg: { port: number; exec(sql: string): Promise<void> }, password: string, grants: string): Promise<PostgresReaderConfig> {
  await pg.exec(`CREATE ROLE reader LOGIN PASSWORD '${password}'; ${grants}`);
  return { host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'reader', secretRef: 'test:reader', tls: { mode: 'disable' } };
}
