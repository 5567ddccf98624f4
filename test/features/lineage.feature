Feature: OpenLineage for every preflight attempt
  Each preflight attempt is an OpenLineage run of the job preflight.<connector>: a START when it
  begins, then COMPLETE when the connector is READY or FAIL when it is not. The contract's datasets
  are the run's inputs, with their schema, data-quality assertions and metrics.

  Background:
    Given an OpenLineage receiver listens on 127.0.0.1
    And the lineage service sends to it

  Scenario: A READY attempt is a START and a COMPLETE run
    When a files connector with its agreed contract is preflighted
    Then the receiver gets START then COMPLETE for the attempt's run id
    And the COMPLETE event's input "customers" has schema, data-quality assertions and a row count

  Scenario: A FAILED attempt is a START and a FAIL run
    When a files connector with a drifted contract is preflighted
    Then the receiver gets START then FAIL for the attempt's run id
    And the FAIL event says why the preflight failed
