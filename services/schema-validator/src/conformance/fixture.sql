-- The side-by-side fixture: one schema with known defects, read by a role that lacks one grant.
-- Every defect is counted in conformance.int.spec.ts; change a row here and the counts there.
CREATE SCHEMA erp;
CREATE TYPE erp.customer_status AS ENUM ('active', 'inactive', 'banned');

-- Mixed-case, quoted identifiers: only a quoting reader finds them.
CREATE TABLE erp."Customers" (
  id integer PRIMARY KEY,
  "Email" text,
  country character(2),
  status erp.customer_status NOT NULL,
  tags text[],
  score numeric(5,2),
  balance numeric(12,2),
  code character(2),
  big bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO erp."Customers" (id, "Email", country, status, tags, score, balance, code, big) VALUES
  (1, 'ann@example.com',  'DE', 'active',   '{a,b}', 10.50,   100.00, 'AA', 1),
  (2, 'bob@example.com',  'DE', 'active',   '{a}',   99.99,  2500.00, 'BB', 2),
  (3, 'ann@example.com',  'FR', 'inactive', '{}',     0.00,     0.00, 'CC', 3),
  (4, NULL,               'XX', 'banned',   NULL,   -5.00,   -10.00, 'DD', 4),
  (5, 'n/a',              NULL, 'active',   '{c}',  NULL,       7.25, 'EE', 5),
  (6, '',                 'IT', 'active',   '{d}',   50.00,     1.00, 'FF', 6),
  (7, 'eve@example',      'ES', 'inactive', '{e}',   75.25,    20.00, 'GG', 7),
  (8, 'joe@example.com',  'de', 'active',   '{f}',  100.00,   300.00, 'HH', 8);

-- A composite key the table does not enforce, with one duplicated pair.
CREATE TABLE erp.order_lines (
  order_id integer NOT NULL,
  line_no integer NOT NULL,
  sku varchar(12),
  qty integer
);
INSERT INTO erp.order_lines VALUES (100, 1, 'SKU-1', 1), (100, 2, 'SKU-2', 2), (101, 1, 'SKU-1', 0), (101, 1, 'SKU-3', 5), (102, 1, NULL, 3);

-- A foreign key added NOT VALID after the fact: two rows point at customers that do not exist.
CREATE TABLE erp.orders (
  id integer PRIMARY KEY,
  customer_id integer,
  amount numeric(12,2) NOT NULL,
  placed_at timestamp NOT NULL
);
INSERT INTO erp.orders VALUES (100, 1, 10.00, '2026-01-01'), (101, 2, 20.00, '2026-01-02'), (102, 99, 30.00, '2026-01-03'), (103, 98, 40.00, '2026-01-04'), (104, NULL, 50.00, '2026-01-05');
ALTER TABLE erp.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES erp."Customers" (id) NOT VALID;

-- The table the reader role was never granted.
CREATE TABLE erp.payroll (
  employee_id integer PRIMARY KEY,
  salary numeric(10,2) NOT NULL
);
INSERT INTO erp.payroll VALUES (1, 1000.00);

-- A sequence the reader may advance: a `type: sql` rule calling nextval() passes as a SELECT, and
-- only the read-only transaction stops it.
CREATE SEQUENCE erp.audit_seq;
