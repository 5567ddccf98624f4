Feature: Connector preflight
  Before any data flows, a connector shakes hands with its source and passes a preflight:
  connectivity, schema against the agreed contract, credentials and their access scope, data quality.

  Scenario: Successful connector handshake and validation
    Given data source is registered
    And connector is deployed
    When Platform Admin initiates handshake
    Then schema validation passes
    And connector status is READY

  Scenario: Connector handshake fails due to schema mismatch
    Given data source is registered
    When connector preflight detects schema mismatch
    Then connector status is FAILED
    And incident ticket is created

  Scenario: A repeated failure updates one incident, and a fixed source resolves it
    Given data source is registered
    When connector preflight detects schema mismatch
    Then connector status is FAILED
    And incident ticket is created
    When the failing preflight is repeated
    Then connector status is FAILED
    And one incident is open for the connector with occurrence count 2
    When the source is fixed and preflighted again
    Then connector status is READY
    And the incident is resolved
    And the incident webhook received open, update and resolve for it

  Scenario: Over-privileged credential is rejected
    Given data source is registered with an over-privileged credential
    When Platform Admin initiates handshake
    Then connector status is FAILED
    And the credential audit reports "SUPERUSER"
    And an error is logged naming the connector and "SUPERUSER" but not the secret

  Scenario: Unreachable source raises an alert
    Given data source is registered on a closed port
    When Platform Admin initiates handshake
    Then the handshake fails with "CONNECTIVITY"
    And an alert is raised
    And connector status is FAILED

  Scenario: A connection lost after the handshake raises an alert
    Given data source is registered behind a link that drops after the handshake
    When Platform Admin initiates handshake
    Then the handshake completes
    And an alert is raised for the "schema check"
    And an alert is raised for the "credential audit"
    And connector status is FAILED

  Scenario: Data quality failure on a regular column is severity V2
    Given data source is registered with null values in a non-PII required column
    When Platform Admin initiates handshake
    Then connector status is FAILED
    And incident ticket is created with severity "V2"

  Scenario: Data quality failure on a PII column is severity V3
    Given data source is registered with null values in a PII column
    When Platform Admin initiates handshake
    Then connector status is FAILED
    And incident ticket is created with severity "V3"

  Scenario: A check service that is down fails the preflight as TIMEOUT
    Given the credential auditor is down
    And data source is registered
    When Platform Admin initiates handshake
    Then connector status is FAILED with reason "TIMEOUT"

  Scenario: The same registration delivered twice yields one outcome
    Given data source is registered
    When the same registration is delivered twice
    Then exactly one outcome is published for the attempt
    And the handshake carries the contract facts the upstream registration left out

  Scenario: One attempt is one trace, and every log line says which
    Given data source is registered
    When Platform Admin initiates handshake
    Then connector status is READY
    And every service log line of the attempt carries its connector, attempt and one trace id
