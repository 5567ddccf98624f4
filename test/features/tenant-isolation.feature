Feature: Tenant isolation for secrets, files and network addresses
  Everything the platform resolves or reaches on a tenant's behalf stays inside that tenant's scope:
  its secrets namespace, its files root, and the addresses the egress policy allows. A spec that
  reaches outside is refused at registration (400, naming the field) and again when the same spec
  arrives straight from Kafka, before any byte reaches the source.

  Background:
    Given tenant "acme" has a secret "token" in its secrets root
    And an attacker listens on 127.0.0.1

  Scenario: A tenant's own secret reaches its own source (control)
    When tenant "acme" registers a REST connector to the listener with secretRef "file:token"
    Then the registration is accepted
    And the listener receives the tenant's own secret

  Scenario: A secret file anywhere on the host is refused
    When tenant "acme" registers a REST connector to the listener with secretRef "file:/etc/hostname"
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: A secret path climbing out of the tenant root with .. is refused
    When tenant "acme" registers a REST connector to the listener with secretRef "file:../../outside/marker"
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: A symlink leaving the tenant root is refused
    When tenant "acme" registers a REST connector to the listener with secretRef "file:escape"
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: A platform environment variable is refused
    When tenant "acme" registers a REST connector to the listener with secretRef "env:PREFLIGHT_PLATFORM_MARKER"
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: Another tenant's environment secret is refused
    When tenant "acme" registers a REST connector to the listener with secretRef "env:TENANT_globex__TOKEN"
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: Another tenant's secret file is refused
    When tenant "acme" registers a REST connector to the listener with globex's secret file as secretRef
    Then the registration is refused naming "config.auth.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: A PostgreSQL connector cannot carry a platform secret as its password
    When tenant "acme" registers a PostgreSQL connector to the listener with secretRef "env:PREFLIGHT_PLATFORM_MARKER"
    Then the registration is refused naming "config.secretRef"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"
    And the listener received no secret

  Scenario: A REST source on the schema registry's port is refused
    When tenant "acme" registers a REST connector to the platform's "schema registry"
    Then the registration is refused naming "config.baseUrl"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"

  Scenario: A REST source on the API's port is refused
    When tenant "acme" registers a REST connector to the platform's "API"
    Then the registration is refused naming "config.baseUrl"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"

  Scenario: A REST source on Kafka's port is refused
    When tenant "acme" registers a REST connector to the platform's "Kafka broker"
    Then the registration is refused naming "config.baseUrl"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"

  Scenario: A files path outside the tenant's files root is refused
    When tenant "acme" registers a files connector on "/etc"
    Then the registration is refused naming "config.path"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"

  Scenario: Another tenant's files are refused
    When tenant "acme" registers a files connector on "../globex/exports"
    Then the registration is refused naming "config.path"
    When the same spec is published straight to connector.registered
    Then the preflight ends FAILED with reason "HANDSHAKE_CONFIG"

  Scenario: A PostgreSQL source of the tenant still works end to end
    When tenant "acme" registers a PostgreSQL connector to its own database with secretRef "file:pg-password"
    Then the registration is accepted
    And the preflight ends READY

  Scenario: A platform admin registering for a tenant gets that tenant's scope, not the platform's
    When a platform admin registers for tenant "globex" a REST connector to the listener with secretRef "env:TENANT_acme__TOKEN"
    Then the registration is refused naming "config.auth.secretRef"
