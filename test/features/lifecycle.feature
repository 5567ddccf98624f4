Feature: Connector lifecycle and release readiness
  A connector is registered, updated and deregistered. An update voids its READY until the new
  spec passes a preflight, and a contract change carries its changelog, each change classified
  breaking or not. A deregistered connector is retired: out of the default list, its history
  kept, its state record tombstoned, further preflights refused with a reason. Per dataset, a
  release gate answers whether a workflow that consumes it may be promoted.

  Background:
    Given a files connector with its agreed contract is READY

  Scenario: A breaking contract change sends a READY connector through a new preflight
    When its contract is updated to a version that adds a required field
    Then the update answers with a changelog classifying "FIELD_ADDED" on "customers.loyalty_tier" as breaking
    And the connector leaves READY and is preflighted again
    And the new receipt shows the classified changelog

  Scenario: A deregistered connector is retired, its history kept, further preflights refused
    When the connector is deregistered because "source decommissioned"
    Then it is gone from the default connector list but listed with include=retired
    And its history and receipt are still readable by id
    And a further preflight through the API is refused with a reason
    And a preflight requested on the bus ends FAILED with reason "HANDSHAKE_DEREGISTERED"
    And its state record on the compacted state topic is tombstoned

  Scenario: The release gate passes for a READY connector's dataset and fails after a quality failure
    Then the gate for its dataset "customers" passes, and "preflight gate" exits 0
    When its contract is updated with a quality rule the source does not meet
    Then the gate for its dataset "customers" fails naming "expect_column_values_to_be_in_set" on "country", and "preflight gate" exits 1
